"""`lifeboat resync` end to end: what lands in S3 (checked with boto3) or in a file:// remote."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import time
from pathlib import Path

import pytest

from conftest import (
    MiB,
    Tree,
    TcpTap,
    assert_dir_mirror,
    assert_no_secret,
    assert_s3_mirror,
    inspect,
    s3_config,
)

FIXED_MTIME = 1_700_000_000.123456  # an old mtime with a fraction, set on some files
S3_SIZES = {"LIFEBOAT_MULTIPART_THRESHOLD": "5MiB", "LIFEBOAT_PART_SIZE": "5MiB"}


def build_media_tree(tmp_path: Path) -> tuple[Tree, str]:
    """Two watches with nested folders, an empty file, a 12 MiB file, varied modes/mtimes.

    Returns the tree and the big file's key relative part ("output/big/render.mp4")."""
    t = Tree()
    t.add_root("output", tmp_path / "app" / "output")
    t.add_root("voice_clone", tmp_path / "app" / "vc")
    t.write("output", "readme.txt", "hello lifeboat\n", mode=0o644)
    t.write("output", "2024/06/frame-0001.png", 70_001, mode=0o600, mtime=FIXED_MTIME)
    t.write("output", "2024/06/deep/deeper/still.png", 3_333)
    t.write("output", "empty.txt", b"", mode=0o640)
    t.write("output", "big/render.mp4", 12 * MiB, mode=0o644)
    t.write("output", "data.json", '{"a": 1}\n')
    t.write("output", "blob", 1_025, mode=0o755)  # no extension
    t.write("voice_clone", "speaker-1/take.wav", 44_100, mtime=FIXED_MTIME + 1.5)
    t.write("voice_clone", "speaker-1/notes.txt", "take 1\n")
    t.write("voice_clone", "weird.lbunknown", 10)
    return t, "output/big/render.mp4"


def versions(client, bucket: str) -> dict[str, list[str]]:
    """key -> version ids (a versioned bucket shows every PUT, even of identical bytes)."""
    out: dict[str, list[str]] = {}
    kw = {"Bucket": bucket}
    for _ in range(1000):
        page = client.list_object_versions(**kw)
        for v in page.get("Versions", []):
            out.setdefault(v["Key"], []).append(v["VersionId"])
        if not page.get("IsTruncated"):
            break
        kw = {"Bucket": bucket, "KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    return out


def snapshot(objs: dict) -> dict[str, tuple]:
    return {k: (o["etag"], o["last_modified"], o.get("version_id")) for k, o in objs.items()}


# --------------------------------------------------------------------------- signed server


def test_signed_resync_mirrors_tree_byte_for_byte_with_metadata_and_is_idempotent(
    agent, moto_signed, tmp_path
):
    bucket = moto_signed.create_bucket(versioned=True)
    prefix = "fleet/node-1"
    tree, big = build_media_tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(moto_signed, bucket, prefix), **S3_SIZES})

    first = agent.resync()
    assert first.returncode == 0, first.describe()
    assert first.count("uploaded") == len(tree.files), first.describe()
    assert first.count("failed") == 0, first.describe()
    assert_no_secret(first, moto_signed.secret_access_key)
    objs = assert_s3_mirror(moto_signed, bucket, prefix, tree, multipart_parts={f"{prefix}/{big}": 3})
    before = snapshot(objs)

    time.sleep(1.1)  # so that a re-upload would show in LastModified (1 s resolution)
    second = agent.resync()
    assert second.returncode == 0, second.describe()
    assert second.count("uploaded") == 0, second.describe()
    assert second.count("failed") == 0, second.describe()
    after = snapshot(inspect(moto_signed, bucket, prefix + "/"))
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert not changed, f"second resync rewrote objects: {changed}\n{second.describe()}"
    vers = versions(moto_signed.client(), bucket)
    rewritten = sorted(k for k, v in vers.items() if len(v) != 1)
    assert not rewritten, f"objects PUT more than once: {rewritten}"


def test_signed_resync_after_one_change_uploads_exactly_that_file(agent, moto_signed, tmp_path):
    bucket = moto_signed.create_bucket(versioned=True)
    prefix = "p"
    tree, _big = build_media_tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(moto_signed, bucket, prefix), **S3_SIZES})
    first = agent.resync()
    assert first.returncode == 0, first.describe()
    before = snapshot(inspect(moto_signed, bucket, prefix + "/"))

    time.sleep(1.1)
    changed = tree.write("voice_clone", "speaker-1/notes.txt", "take 1\ntake 2 is better\n")
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert r.count("uploaded") == 1, r.describe()
    assert r.count("failed") == 0, r.describe()
    objs = assert_s3_mirror(moto_signed, bucket, prefix, tree)
    after = snapshot(objs)
    rewritten = sorted(k for k in before if before[k] != after[k])
    assert rewritten == [changed.key(prefix)], f"rewritten: {rewritten}"
    vers = versions(moto_signed.client(), bucket)
    assert len(vers[changed.key(prefix)]) == 2
    assert all(len(v) == 1 for k, v in vers.items() if k != changed.key(prefix)), vers


def test_signed_resync_with_empty_prefix_puts_keys_at_bucket_root(agent, moto_signed, signed_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.txt", "a\n")
    t.write("output", "sub/b.png", 500)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_signed, signed_bucket, "")})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert r.count("uploaded") == 2, r.describe()
    assert_s3_mirror(moto_signed, signed_bucket, "", t)  # keys "output/a.txt", no leading slash


def test_signed_resync_with_checksum_sha256_sends_checksum_header(agent, moto_signed, signed_bucket, tmp_path):
    """LIFEBOAT_S3_CHECKSUM=sha256: every single-part PUT carries x-amz-checksum-sha256 (base64).

    moto neither stores nor verifies a bare x-amz-checksum-sha256 header, so we read it off
    the wire through a recording TCP relay."""
    t = Tree()
    t.add_root("output", tmp_path / "out")
    files = [t.write("output", "one.txt", "first file\n"), t.write("output", "two/two.png", 4_096)]
    tap = TcpTap(moto_signed.port)
    try:
        cfg = s3_config(moto_signed, signed_bucket, "ck")
        cfg["LIFEBOAT_S3_ENDPOINT"] = tap.endpoint
        agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg, "LIFEBOAT_S3_CHECKSUM": "sha256"})
        r = agent.resync()
        assert r.returncode == 0, r.describe()
        sent = tap.client_bytes
    finally:
        tap.close()
    assert_s3_mirror(moto_signed, signed_bucket, "ck", t)
    for f in files:
        b64 = base64.b64encode(hashlib.sha256(f.data).digest())
        assert re.search(rb"(?i)x-amz-checksum-sha256:[ \t]*" + re.escape(b64), sent), (
            f"no x-amz-checksum-sha256: {b64.decode()} sent for {f.rel}"
        )


def test_wrong_secret_fails_with_provider_code_and_never_prints_secrets(agent, moto_signed, signed_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.txt", "a\n")
    t.write("output", "nested/b.png", 2_000)
    wrong = "WrongSecretValue0123456789abcdefWRONGxyz"
    cfg = s3_config(moto_signed, signed_bucket, "p")
    cfg["AWS_SECRET_ACCESS_KEY"] = wrong
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg})

    r = agent.resync()
    assert r.returncode == 1, r.describe()
    assert re.search(r"SignatureDoesNotMatch|InvalidAccessKeyId", r.stderr), r.describe()
    assert_no_secret(r, wrong, moto_signed.secret_access_key)
    for f in t.files.values():
        assert f.rel in r.stderr, f"failed file {f.rel} not named on stderr\n{r.describe()}"
    assert r.elapsed < 60, f"a 403 should be reported, not retried for {r.elapsed:.0f}s\n{r.describe()}"
    assert inspect(moto_signed, signed_bucket) == {}, "objects landed despite a wrong secret"

    st = agent.status()
    assert_no_secret(st["_run"], wrong, moto_signed.secret_access_key)
    assert st["mirrored"] == 0, st["_run"].describe()
    assert st["failed"] + st["pending"] >= len(t.files), st["_run"].describe()
    assert st["failed"] > 0 or st["pending"] > 0, st["_run"].describe()

    # Fix the secret: the same journal recovers and mirrors everything.
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_signed, signed_bucket, "p")})
    r2 = agent.resync()
    assert r2.returncode == 0, r2.describe()
    assert r2.count("failed") == 0, r2.describe()
    assert_s3_mirror(moto_signed, signed_bucket, "p", t)


def test_unreachable_endpoint_is_reported_promptly_and_nothing_is_lost(agent, moto_unsigned, unsigned_bucket, tmp_path):
    """Nothing listens on the endpoint: each file's request would spend its retries on it, so a
    mistyped endpoint took minutes to report. After a streak of such failures the rest are not
    tried; every file is still named, stays queued, and a later resync mirrors them all."""
    t = Tree()
    t.add_root("output", tmp_path / "out")
    for i in range(100):
        t.write("output", f"clips/c{i:02d}.bin", 1_000 + i)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{holder.getsockname()[1]}"  # bound, never listening: refused
        cfg = s3_config(moto_unsigned, unsigned_bucket, "dead")
        cfg["LIFEBOAT_S3_ENDPOINT"] = dead
        agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg, "LIFEBOAT_CONCURRENCY": "2"})
        r = agent.resync(timeout=120)
    assert r.returncode == 1, r.describe()
    assert r.elapsed < 40, f"an unreachable endpoint took {r.elapsed:.0f}s to report\n{r.describe()}"
    assert "cannot be reached" in r.stderr, r.describe()
    for f in t.files.values():
        assert f.rel in r.stderr, f"{f.rel} not named on stderr\n{r.describe()}"
    st = agent.status()
    assert st["mirrored"] == 0 and st["pending"] + st["failed"] == len(t.files), st["_run"].describe()

    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "dead")})
    r2 = agent.resync()
    assert r2.returncode == 0, r2.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "dead", t)


def test_unknown_access_key_fails_with_invalid_access_key_id(agent, moto_signed, signed_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.txt", "a\n")
    cfg = s3_config(moto_signed, signed_bucket, "p")
    cfg["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7NOTREAL"
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg})
    r = agent.resync()
    assert r.returncode == 1, r.describe()
    assert "InvalidAccessKeyId" in r.stderr, r.describe()
    assert "a.txt" in r.stderr, r.describe()
    assert_no_secret(r, moto_signed.secret_access_key)
    assert inspect(moto_signed, signed_bucket) == {}


# --------------------------------------------------------------------------- unsigned server: names

ODD_NAMES = [
    "vidéo 日本.mp4",
    "with space.txt",
    "clip (1).mp4",
    "a+b.txt",
    "100%.txt",
    "#hash.txt",
    "dir with space/é/x (2).png",
    "Ünïcödé/naïve café.wav",
]

MORE_RESERVED = [
    "q?mark.txt",
    "amp&eq=semi;.txt",
    "quote'bang!dollar$.txt",
    "at@comma,.txt",
    "brackets[1]{2}.txt",
    "tilde~inside.txt",
    "star*.txt",
    "colon:pipe|.txt",
    "caret^back`tick.txt",
    'dq"lt<gt>.txt',
    "emoji-🚀.txt",
    "%20literal%2F.txt",
]


def _odd_tree(tmp_path: Path, names: list[str]) -> Tree:
    t = Tree()
    t.add_root("output", tmp_path / "out")
    for i, n in enumerate(names):
        t.write("output", n, f"file {i}: {n}\n")
    return t


@pytest.mark.parametrize("names", [ODD_NAMES, MORE_RESERVED], ids=["spaces-nonascii-parens-plus-percent-hash", "other-reserved"])
def test_unsigned_odd_file_names_land_with_exactly_those_keys(agent, moto_unsigned, unsigned_bucket, tmp_path, names):
    t = _odd_tree(tmp_path, names)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "odd")})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert r.count("uploaded") == len(names), r.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "odd", t)


def test_watch_without_name_uses_directory_name_as_remote_folder(agent, moto_unsigned, unsigned_bucket, tmp_path):
    """LIFEBOAT_WATCH entries may be a bare PATH; its remote folder is then the directory's name."""
    t = Tree()
    root = t.add_root("digital_human", tmp_path / "app" / "digital_human")
    t.write("digital_human", "avatar.png", 321)
    cfg = s3_config(moto_unsigned, unsigned_bucket, "bare")
    agent.configure({"LIFEBOAT_WATCH": str(root), **cfg})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "bare", t)


def test_empty_watch_directory_resyncs_nothing_and_succeeds(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "empty")})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert r.count("uploaded") == 0, r.describe()
    assert r.count("failed") == 0, r.describe()
    assert inspect(moto_unsigned, unsigned_bucket) == {}


# --------------------------------------------------------------------------- file:// remote


def test_file_remote_mirrors_tree_with_mode_and_mtime_and_no_temporaries(agent, tmp_path):
    tree, _big = build_media_tree(tmp_path)
    remote = tmp_path / "remote"
    remote.mkdir()
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert r.count("uploaded") == len(tree.files), r.describe()
    assert r.count("failed") == 0, r.describe()
    assert_dir_mirror(remote, tree)

    r2 = agent.resync()
    assert r2.returncode == 0, r2.describe()
    assert r2.count("uploaded") == 0, r2.describe()
    assert_dir_mirror(remote, tree)


def test_file_remote_that_is_not_mounted_is_refused_without_writing(agent, tmp_path):
    """Guarantee 4's spirit: a missing target directory (unmounted volume) is not created."""
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a/b/c.txt", "deep\n")
    remote = tmp_path / "not-mounted" / "remote"
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    r = agent.resync()
    assert r.returncode != 0, r.describe()
    assert "LIFEBOAT_REMOTE" in r.output or str(remote) in r.output, r.describe()
    assert not (tmp_path / "not-mounted").exists(), "created the missing remote directory"


# --------------------------------------------------------------------------- what is not uploaded


def test_default_excludes_never_land(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "keep.txt", "keep\n")
    t.write("output", "keep.mp4", 1000)
    for rel in ["render.tmp", "download.part", ".keep.txt.swp", "notes.txt~", ".#lockfile"]:
        t.write("output", rel, "transient\n", expected=False)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "ex")})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert r.count("uploaded") == 2, r.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "ex", t)  # exact: no excluded key


def test_default_excludes_also_apply_in_subfolders(agent, moto_unsigned, unsigned_bucket, tmp_path):
    """rclone-style: a pattern without "/" (like *.tmp) matches the file name at any depth."""
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "job/keep.png", 100)
    for rel in ["job/frame.tmp", "job/deep/video.part", "job/.x.swp", "job/y~", "job/.#z"]:
        t.write("output", rel, "transient\n", expected=False)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "ex2")})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "ex2", t)


def test_custom_exclude_with_double_star_crosses_folders(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "keep/a.png", 100)
    t.write("output", "top.log", "log\n", expected=False)
    t.write("output", "cache/x.bin", 10, expected=False)
    t.write("output", "a/b/cache/y.bin", 10, expected=False)
    agent.configure({
        "LIFEBOAT_WATCH": t.watch_setting(),
        **s3_config(moto_unsigned, unsigned_bucket, "ex3"),
        "LIFEBOAT_EXCLUDE": "*.log,**/cache/**,cache/**",
    })
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "ex3", t)


def test_symlinks_are_not_followed_or_uploaded(agent, moto_unsigned, unsigned_bucket, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret_data = b"TOP SECRET content outside the watch root\n"
    (outside / "secret.txt").write_bytes(secret_data)
    (outside / "dir").mkdir()
    (outside / "dir" / "inner.txt").write_bytes(b"inner outside\n")
    t = Tree()
    root = t.add_root("output", tmp_path / "out")
    t.write("output", "real.txt", "real\n")
    os.symlink(outside / "secret.txt", root / "link-to-outside.txt")
    os.symlink(outside / "dir", root / "link-to-outside-dir")
    os.symlink("real.txt", root / "link-to-inside.txt")
    os.symlink(tmp_path / "nowhere", root / "dangling.txt")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "sl")})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    objs = assert_s3_mirror(moto_unsigned, unsigned_bucket, "sl", t)
    leaked = [k for k, o in objs.items() if o["sha256"] == hashlib.sha256(secret_data).hexdigest()]
    assert not leaked, f"content from outside the watch root was uploaded: {leaked}"


def test_fifo_is_skipped_without_hanging(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    root = t.add_root("output", tmp_path / "out")
    t.write("output", "real.txt", "real\n")
    os.mkfifo(root / "pipe.wav")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "ff")})
    r = agent.resync(timeout=60)
    assert r.returncode == 0, r.describe()
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "ff", t)


def test_dry_run_uploads_nothing_and_lists_what_it_would_upload(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.add_root("voice_clone", tmp_path / "vc")
    t.write("output", "first.mp4", 2_000)
    t.write("output", "folder/second.png", 300)
    t.write("voice_clone", "third.wav", 400)
    t.write("output", "skipped.tmp", "x", expected=False)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "dry")})

    r = agent.resync("--dry-run")
    assert r.returncode == 0, r.describe()
    assert inspect(moto_unsigned, unsigned_bucket) == {}, f"--dry-run uploaded objects\n{r.describe()}"
    for f in t.files.values():
        assert f.rel in r.stdout, f"--dry-run does not list {f.rel}\n{r.describe()}"
    assert "skipped.tmp" not in r.stdout, f"--dry-run lists an excluded file\n{r.describe()}"

    real = agent.resync()
    assert real.returncode == 0, real.describe()
    assert real.count("uploaded") == len(t.files), f"dry run must not mark files mirrored\n{real.describe()}"
    assert_s3_mirror(moto_unsigned, unsigned_bucket, "dry", t)


def test_dry_run_on_file_remote_writes_nothing(agent, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.txt", "a\n")
    remote = tmp_path / "remote"
    remote.mkdir()
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    r = agent.resync("--dry-run")
    assert r.returncode == 0, r.describe()
    assert list(remote.iterdir()) == [], f"--dry-run wrote into the file remote\n{r.describe()}"
    assert "a.txt" in r.stdout, r.describe()
