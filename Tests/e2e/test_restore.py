"""`lifeboat restore` and `lifeboat verify` end to end.

The remote is filled by the agent itself (resync) or planted with boto3, an independent client;
results are checked on disk and with boto3, never with Lifeboat's own code."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from conftest import MiB, Tree, inspect, s3_config

FIXED_MTIME_NS = 1_700_000_000_123_456_789  # an old mtime with nanoseconds
S3_SIZES = {"LIFEBOAT_MULTIPART_THRESHOLD": "5MiB", "LIFEBOAT_PART_SIZE": "5MiB"}


def build_tree(tmp_path: Path) -> Tree:
    """Two watches, nested folders, an empty file, a multipart-sized file, varied modes and mtimes."""
    t = Tree()
    t.add_root("output", tmp_path / "app" / "output")
    t.add_root("voice_clone", tmp_path / "app" / "vc")
    t.write("output", "readme.txt", "hello lifeboat\n", mode=0o644)
    t.write("output", "2024/06/frame-0001.png", 70_001, mode=0o600)
    t.write("output", "2024/06/deep/deeper/still.png", 3_333, mode=0o640)
    t.write("output", "empty.txt", b"", mode=0o640)
    t.write("output", "big/render.mp4", 6 * MiB + 123, mode=0o644)
    t.write("output", "blob", 1_025, mode=0o755)
    t.write("voice_clone", "speaker-1/take.wav", 44_100, mode=0o600)
    t.write("voice_clone", "speaker-1/notes.txt", "take 1\n")
    for i, f in enumerate(t.files.values()):
        ns = FIXED_MTIME_NS + i * 1_000_000_007
        os.utime(f.path, ns=(ns, ns))
    return t


def snapshot(tree: Tree) -> dict[tuple[str, str], tuple[bytes, int, int]]:
    """(watch, rel) -> (content, permission bits, mtime_ns) of every expected file."""
    out = {}
    for k, f in tree.files.items():
        st = f.path.lstat()
        out[k] = (f.path.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return out


def assert_restored(tree: Tree, before: dict) -> None:
    problems = []
    for k, f in tree.files.items():
        want_data, want_mode, want_mtime = before[k]
        if not f.path.exists():
            problems.append(f"{f.path}: missing")
            continue
        st = f.path.lstat()
        if not stat.S_ISREG(st.st_mode):
            problems.append(f"{f.path}: not a regular file")
            continue
        if f.path.read_bytes() != want_data:
            problems.append(f"{f.path}: content differs")
        if stat.S_IMODE(st.st_mode) != want_mode:
            problems.append(f"{f.path}: mode {oct(stat.S_IMODE(st.st_mode))} != {oct(want_mode)}")
        if st.st_mtime_ns != want_mtime:
            problems.append(f"{f.path}: mtime_ns {st.st_mtime_ns} != {want_mtime}")
    assert not problems, "restored tree differs:\n  " + "\n  ".join(problems)


def all_files(root: Path) -> set[str]:
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for n in files + [d for d in dirs if (Path(dirpath) / d).is_symlink()]:
            out.add(str((Path(dirpath) / n).relative_to(root)))
    return out


def wipe(tree: Tree, agent) -> None:
    """The disaster: every watched directory and the whole journal (with its lock and WAL) gone."""
    for root in tree.roots.values():
        shutil.rmtree(root)
    shutil.rmtree(agent.journal.parent)


# --------------------------------------------------------------------------- round trips


def test_signed_round_trip_restores_identical_tree_and_resync_then_uploads_nothing(agent, moto_signed, tmp_path):
    # An empty remote prefix: moto's signature check rejects listings whose prefix holds "/".
    bucket = moto_signed.create_bucket(versioned=True)
    tree = build_tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(moto_signed, bucket), **S3_SIZES})
    first = agent.resync()
    assert first.returncode == 0, first.describe()
    before = snapshot(tree)

    wipe(tree, agent)
    r = agent.run("restore")
    assert r.returncode == 0, r.describe()
    assert r.summary.startswith("restore:"), r.describe()
    assert r.count("objects") == len(tree.files), r.describe()
    assert r.count("restored") == len(tree.files), r.describe()
    assert r.count("failed") == 0 and r.count("unverified") == 0, r.describe()
    assert_restored(tree, before)
    for root in tree.roots.values():
        leftovers = [n for n in all_files(root) if "lifeboat-restore" in n]
        assert not leftovers, f"temporary files left behind: {leftovers}"

    again = agent.resync()
    assert again.returncode == 0, again.describe()
    assert again.count("uploaded") == 0, f"resync after restore re-uploaded files\n{again.describe()}"
    assert again.count("unchanged") == len(tree.files), again.describe()
    versions = moto_signed.client().list_object_versions(Bucket=bucket).get("Versions", [])
    assert len(versions) == len(tree.files), f"objects were PUT again: {sorted(v['Key'] for v in versions)}"

    v = agent.run("verify")
    assert v.returncode == 0, v.describe()

    second = agent.run("restore")
    assert second.returncode == 0, second.describe()
    assert second.count("already present") == len(tree.files), second.describe()


def test_file_remote_round_trip(agent, tmp_path):
    tree = build_tree(tmp_path)
    remote = tmp_path / "remote"
    remote.mkdir()
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    assert agent.resync().returncode == 0
    before = snapshot(tree)

    wipe(tree, agent)
    r = agent.run("restore")
    assert r.returncode == 0, r.describe()
    assert r.count("restored") == len(tree.files), r.describe()
    assert_restored(tree, before)

    again = agent.resync()
    assert again.returncode == 0, again.describe()
    assert again.count("uploaded") == 0, again.describe()
    assert agent.run("verify", "--deep").returncode == 0


def test_restore_to_dir_leaves_watches_and_journal_alone(agent, moto_unsigned, unsigned_bucket, tmp_path):
    tree = build_tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "fleet/a"), **S3_SIZES})
    assert agent.resync().returncode == 0
    before = snapshot(tree)
    wipe(tree, agent)

    elsewhere = tmp_path / "elsewhere"
    r = agent.run("restore", "--to", str(elsewhere), "--only", "voice_clone")
    assert r.returncode == 0, r.describe()
    assert r.count("restored") == 2, r.describe()
    for (watch, rel), (data, mode, mtime) in before.items():
        dst = elsewhere / watch / rel
        if watch != "voice_clone":
            assert not dst.exists()
            continue
        st = dst.lstat()
        assert dst.read_bytes() == data and stat.S_IMODE(st.st_mode) == mode and st.st_mtime_ns == mtime, dst
    assert not any(root.exists() for root in tree.roots.values()), "--to touched the watch directories"
    assert not agent.journal.exists(), "--to created or wrote the journal"


def test_dry_run_writes_nothing(agent, tmp_path):
    tree = build_tree(tmp_path)
    remote = tmp_path / "remote"
    remote.mkdir()
    agent.configure({"LIFEBOAT_WATCH": tree.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    assert agent.resync().returncode == 0
    wipe(tree, agent)

    r = agent.run("restore", "--dry-run")
    assert r.returncode == 0, r.describe()
    for f in tree.files.values():
        assert str(f.path) in r.stdout, f"--dry-run does not list {f.path}\n{r.describe()}"
    assert not any(root.exists() for root in tree.roots.values()), "--dry-run created the watch directories"
    assert not agent.journal.parent.exists(), "--dry-run created the journal"


def test_unknown_only_name_exits_2_naming_the_flag(agent, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    remote = tmp_path / "remote"
    remote.mkdir()
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    r = agent.run("restore", "--only", "nosuchwatch")
    assert r.returncode == 2, r.describe()
    assert "--only" in r.stderr and "nosuchwatch" in r.stderr, r.describe()


# --------------------------------------------------------------------------- what is not overwritten


def test_differing_local_file_is_kept_without_force_and_replaced_with_it(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    same = t.write("output", "same.txt", "identical\n")
    other = t.write("output", "other.txt", "the remote version\n")
    samesize = t.write("output", "samesize.bin", b"A" * 64)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "k")})
    assert agent.resync().returncode == 0
    shutil.rmtree(agent.journal.parent)  # a fresh machine whose folders were partly filled by hand
    other.path.write_text("a local edit that must survive\n")
    samesize.path.write_bytes(b"B" * 64)

    r = agent.run("restore")
    assert r.returncode == 1, r.describe()
    assert r.count("kept") == 2 and r.count("already present") == 1, r.describe()
    assert str(other.path) in r.stderr and str(samesize.path) in r.stderr, r.describe()
    assert "--force" in r.stderr, r.describe()
    assert other.path.read_text() == "a local edit that must survive\n"
    assert samesize.path.read_bytes() == b"B" * 64
    assert same.path.read_text() == "identical\n"

    forced = agent.run("restore", "--force")
    assert forced.returncode == 0, forced.describe()
    assert forced.count("restored") == 2, forced.describe()
    assert other.path.read_text() == "the remote version\n"
    assert samesize.path.read_bytes() == b"A" * 64


def test_object_without_checksum_metadata_is_restored_and_reported_unverified(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    root = t.add_root("output", tmp_path / "out")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "u")})
    moto_unsigned.client().put_object(Bucket=unsigned_bucket, Key="u/output/foreign/photo.jpg", Body=b"not from lifeboat")
    r = agent.run("restore")
    assert r.returncode == 1, r.describe()
    assert r.count("unverified") == 1, r.describe()
    assert "foreign/photo.jpg" in r.stderr, r.describe()
    assert (root / "foreign" / "photo.jpg").read_bytes() == b"not from lifeboat"


def test_object_whose_content_does_not_match_its_checksum_is_not_restored(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    root = t.add_root("output", tmp_path / "out")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "c")})
    moto_unsigned.client().put_object(
        Bucket=unsigned_bucket, Key="c/output/corrupt.bin", Body=b"corrupted bytes",
        Metadata={"sha256": hashlib.sha256(b"the original bytes").hexdigest()},
    )
    r = agent.run("restore")
    assert r.returncode == 1, r.describe()
    assert r.count("failed") == 1, r.describe()
    assert "corrupt.bin" in r.stderr, r.describe()
    assert all_files(root) == set(), f"a corrupt download was put in place: {all_files(root)}"


# --------------------------------------------------------------------------- hostile keys (guarantee 5)


HOSTILE_KEYS = [
    "output/../../escape.txt",
    "output/a/../../../evil.txt",
    "output//abs.txt",
    "output/ctl\x01name.txt",
    "output/back\\slash.txt",
    "output/./dot.txt",
]


def test_hostile_keys_are_refused_and_nothing_is_written_outside_the_target(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    target = tmp_path / "deep" / "er" / "out"
    t.add_root("output", target)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"untouched\n")
    os.symlink(outside, target / "link")  # a symlink already present in the target
    os.symlink(outside / "victim.txt", target / "victim-link.txt")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "h")})

    s3 = moto_unsigned.client()
    evil = b"EVIL CONTENT\n"
    meta = {"sha256": hashlib.sha256(evil).hexdigest()}
    planted = HOSTILE_KEYS + ["output/link/evil.txt", "output/link/sub/evil.txt", "output/victim-link.txt"]
    for k in planted:
        s3.put_object(Bucket=unsigned_bucket, Key="h/" + k, Body=evil, Metadata=meta)
    good = b"good\n"
    s3.put_object(Bucket=unsigned_bucket, Key="h/output/fine/good.txt", Body=good, Metadata={"sha256": hashlib.sha256(good).hexdigest()})
    assert {k[len("h/"):] for k in inspect(moto_unsigned, unsigned_bucket, "h/")} == set(planted) | {"output/fine/good.txt"}

    r = agent.run("restore")
    assert r.returncode == 1, r.describe()
    assert r.count("failed") == len(planted), r.describe()
    assert r.count("restored") == 1, r.describe()
    for k in planted:
        shown = k.replace("\\", "\\\\").replace("\x01", "\\u{01}")
        assert shown in r.stderr, f"refused key {k!r} not named on stderr\n{r.describe()}"
    assert (target / "fine" / "good.txt").read_bytes() == good

    # Nothing outside the target changed. The target sits three levels below tmp_path, so every
    # "../" escape above would have landed inside tmp_path, where it is looked for.
    assert all_files(outside) == {"victim.txt"}
    assert (outside / "victim.txt").read_bytes() == b"untouched\n"
    inside = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    stray = sorted(p for p in inside if not p.startswith(("deep/er/out/", "state/", "outside/")) and p != "agent.conf")
    assert not stray, f"files written outside the target: {stray}"
    under_target = all_files(target)
    assert under_target == {"fine/good.txt", "link", "victim-link.txt"}, under_target
    assert os.path.islink(target / "link") and os.path.islink(target / "victim-link.txt")
    assert not Path("/abs.txt").exists()


def test_hostile_keys_with_dry_run_are_refused_too(agent, moto_unsigned, unsigned_bucket, tmp_path):
    t = Tree()
    target = t.add_root("output", tmp_path / "out")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(moto_unsigned, unsigned_bucket, "d")})
    moto_unsigned.client().put_object(Bucket=unsigned_bucket, Key="d/output/../../escape.txt", Body=b"x")
    r = agent.run("restore", "--dry-run")
    assert r.returncode == 1, r.describe()
    assert "output/../../escape.txt" in r.stderr, r.describe()
    assert all_files(target) == set()


# --------------------------------------------------------------------------- verify


def _mirrored_pair(agent, server, bucket, tmp_path, prefix=""):
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.txt", "original a\n")
    t.write("output", "b/b.png", 2_000)
    t.write("output", "c.txt", "c\n")
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **s3_config(server, bucket, prefix)})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    return t


def test_verify_passes_on_a_clean_mirror_and_lists_untracked_objects(agent, moto_signed, signed_bucket, tmp_path):
    _mirrored_pair(agent, moto_signed, signed_bucket, tmp_path)
    moto_signed.client().put_object(Bucket=signed_bucket, Key="output/not-from-here.txt", Body=b"extra")
    moto_signed.client().put_object(Bucket=signed_bucket, Key="elsewhere/ignored.txt", Body=b"extra")
    for args in ([], ["--deep"]):
        r = agent.run("verify", "--json", *args)
        assert r.returncode == 0, r.describe()
        obj = json.loads(r.stdout)
        assert obj["checked"] == 3 and obj["ok"] == 3, r.describe()
        assert obj["missing"] == [] and obj["mismatched"] == [], r.describe()
        assert obj["untracked"] == ["output/not-from-here.txt"], r.describe()
    text = agent.run("verify")
    assert text.returncode == 0, text.describe()
    assert "not-from-here.txt" in text.stdout, text.describe()


def test_verify_catches_overwritten_and_deleted_objects(agent, moto_signed, signed_bucket, tmp_path):
    _mirrored_pair(agent, moto_signed, signed_bucket, tmp_path)
    s3 = moto_signed.client()
    s3.put_object(Bucket=signed_bucket, Key="output/a.txt", Body=b"replaced behind the agent's back\n")
    s3.delete_object(Bucket=signed_bucket, Key="output/b/b.png")

    r = agent.run("verify", "--json")
    assert r.returncode == 1, r.describe()
    obj = json.loads(r.stdout)
    assert obj["checked"] == 3 and obj["ok"] == 1, r.describe()
    assert obj["missing"] == ["output/b/b.png"], r.describe()
    assert [m["key"] for m in obj["mismatched"]] == ["output/a.txt"], r.describe()
    assert all(m["reason"] for m in obj["mismatched"])
    assert "output/a.txt" in r.stderr and "output/b/b.png" in r.stderr, r.describe()

    text = agent.run("verify")
    assert text.returncode == 1, text.describe()
    assert "output/a.txt" in text.stderr and "output/b/b.png" in text.stderr, text.describe()


def test_verify_deep_catches_same_size_same_etag_corruption_on_file_remote(agent, tmp_path):
    """A file remote's object rewritten in place with the same size: only --deep sees it."""
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.bin", b"A" * 100)
    remote = tmp_path / "remote"
    remote.mkdir()
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": f"file://{remote}"})
    assert agent.resync().returncode == 0
    obj = remote / "output" / "a.bin"
    st = obj.stat()
    with open(obj, "r+b") as f:  # bit rot: same size, same xattr, same mtime
        f.write(b"B")
    os.utime(obj, ns=(st.st_atime_ns, st.st_mtime_ns))

    shallow = agent.run("verify")
    assert shallow.returncode == 0, shallow.describe()
    deep = agent.run("verify", "--deep", "--json")
    assert deep.returncode == 1, deep.describe()
    assert [m["key"] for m in json.loads(deep.stdout)["mismatched"]] == ["output/a.bin"], deep.describe()


def test_verify_without_journal_checks_objects_against_their_own_metadata(agent, moto_unsigned, unsigned_bucket, tmp_path):
    _mirrored_pair(agent, moto_unsigned, unsigned_bucket, tmp_path, prefix="v")
    shutil.rmtree(agent.journal.parent)
    for args in ([], ["--deep"]):
        r = agent.run("verify", "--json", *args)
        assert r.returncode == 0, r.describe()
        obj = json.loads(r.stdout)
        assert obj["checked"] == 3 and obj["ok"] == 3, r.describe()
    assert not agent.journal.exists(), "verify created a journal"

    s3 = moto_unsigned.client()
    s3.put_object(Bucket=unsigned_bucket, Key="v/output/foreign.txt", Body=b"no metadata")
    s3.put_object(
        Bucket=unsigned_bucket, Key="v/output/a.txt", Body=b"tampered\n",
        Metadata={"sha256": hashlib.sha256(b"original a\n").hexdigest()},
    )
    shallow = agent.run("verify", "--json")
    assert shallow.returncode == 1, shallow.describe()
    assert [m["key"] for m in json.loads(shallow.stdout)["mismatched"]] == ["output/foreign.txt"], shallow.describe()
    deep = agent.run("verify", "--json", "--deep")
    assert deep.returncode == 1, deep.describe()
    assert [m["key"] for m in json.loads(deep.stdout)["mismatched"]] == ["output/a.txt", "output/foreign.txt"], deep.describe()
