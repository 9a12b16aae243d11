"""`lifeboat run` end to end: the ways applications write files, start-up, shutdown, locking,
a burst, and a watch root that goes away. The real binary against the signature-checking
moto; what landed is checked with boto3 only.

Every daemon runs with LIFEBOAT_SETTLE=100ms, no HTTP endpoint and no periodic rescan unless
a test says otherwise (conftest.DAEMON_SETTINGS), and is stopped by the start_daemon fixture.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (
    DAEMON_SETTINGS,
    MULTIPART_5MIB,
    LocalFile,
    MiB,
    Tree,
    assert_s3_mirror,
    fault_proxy,
    remote_keys,
    remote_sha256,
    s3_config,
    s3_inspect,
    wait_for,
    wait_for_keys,
    wait_for_remote_sha,
    wait_status,
)

LAND_TIMEOUT = 20.0  # generous: the contract says about a second


def configure(agent, tree: Tree, server, bucket: str, prefix: str = "", endpoint: str | None = None, **extra: str) -> None:
    settings = {"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(server, bucket, prefix), **DAEMON_SETTINGS}
    if endpoint:
        settings["LIFEBOAT_S3_ENDPOINT"] = endpoint
    settings.update(extra)
    agent.configure(settings)


def all_clean(n: int):
    """status predicate: n files, all mirrored, nothing pending or failed."""
    return lambda s: s["mirrored"] == n and s["pending"] == 0 and s["failed"] == 0


def mirrored_lines(daemon, path: Path) -> list[str]:
    """The daemon's "mirrored PATH ..." log lines for one file."""
    rx = re.compile(r"\bmirrored " + re.escape(str(path)) + r"(\s|$).*$", re.M)
    return [m.group(0) for m in rx.finditer(daemon.log())]


def object_versions(client, bucket: str, key: str) -> list[dict]:
    """Every version of `key` (listing the whole bucket: moto's signature check mishandles
    prefixes holding "/"), each with its x-amz-meta-sha256 and size."""
    out = []
    kw = {"Bucket": bucket}
    for _ in range(1000):
        page = client.list_object_versions(**kw)
        for v in page.get("Versions", []):
            if v["Key"] == key:
                head = client.head_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
                out.append({"version": v["VersionId"], "size": v["Size"], "sha256": head.get("Metadata", {}).get("sha256")})
        if not page.get("IsTruncated"):
            break
        kw = {"Bucket": bucket, "KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    return out


# --------------------------------------------------------------------------- how applications write


def test_plain_writes_land_byte_for_byte_with_metadata(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    tree.add_root("output", tmp_path / "app" / "output")
    tree.add_root("voice_clone", tmp_path / "app" / "vc")
    (tree.roots["output"] / "2024" / "06").mkdir(parents=True)  # folders that exist before the start
    prefix = "node-1"
    configure(agent, tree, moto_signed, signed_bucket, prefix, **MULTIPART_5MIB)
    d = start_daemon().wait_watching()

    tree.write("output", "hello.txt", "hello lifeboat\n", mode=0o644)
    tree.write("output", "2024/06/frame-0001.png", 70_001, mode=0o600)
    tree.write("output", "2024/06/still.jpg", 3_333, mode=0o640, mtime=1_700_000_000.123456)
    tree.write("output", "empty.txt", b"")
    tree.write("output", "render.mp4", 6 * MiB + 17)  # multipart: 2 parts of at most 5 MiB
    tree.write("output", "run.json", '{"seed": 42}\n')
    tree.write("voice_clone", "take-1.wav", 44_100, mode=0o755)

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, tree.keys(prefix), LAND_TIMEOUT, daemon=d)
    assert_s3_mirror(moto_signed, signed_bucket, prefix, tree, multipart_parts={f"{prefix}/output/render.mp4": 2})
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d)
    assert d.alive(), d.log_tail()


def test_directory_created_and_filled_at_once_nested_four_levels_is_found(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    """mkdir -p a/b/c/d then write at once: files written before the new folders' watches
    existed must be found by the scan that follows each new folder."""
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket)
    d = start_daemon().wait_watching()

    for job in range(6):
        levels = [f"job-{job}", "a", "b", "c", "d"]
        os.makedirs(root.joinpath(*levels))
        # Deepest first: by the time the daemon hears of job-N, everything below already exists.
        for depth in range(len(levels), 0, -1):
            rel = "/".join(levels[:depth])
            for i in range(3):
                tree.write("output", f"{rel}/f{i}.bin", 500 + 37 * depth + i)

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, tree.keys(), LAND_TIMEOUT, daemon=d)
    assert_s3_mirror(moto_signed, signed_bucket, "", tree)
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d)


def test_temp_name_renamed_into_place_lands_only_under_the_final_name(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    (root / "sub").mkdir()
    configure(agent, tree, moto_signed, signed_bucket)
    d = start_daemon().wait_watching()

    renames = [
        ("render.mp4.part", "render.mp4", 300_000),  # *.part
        (".frame.png.tmp", "frame.png", 20_000),  # *.tmp, a dotfile
        ("sub/.voice.wav.tmp", "sub/voice.wav", 9_999),  # excluded at any depth
        ("sub/notes.txt~", "sub/notes.txt", 123),  # editor backup pattern *~
    ]
    for tmp, final, size in renames:
        f = tree.write("output", tmp, size, expected=False)
        os.rename(f.path, root / final)
        tree.files[("output", final)] = LocalFile("output", final, root / final, f.data)
    # A temp file that sits longer than the settle time before its rename.
    slow = tree.write("output", "sub/slow.json.part", '{"late": true}\n', expected=False)
    time.sleep(0.5)
    os.rename(slow.path, root / "sub" / "slow.json")
    tree.files[("output", "sub/slow.json")] = LocalFile("output", "sub/slow.json", root / "sub" / "slow.json", slow.data)

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, tree.keys(), LAND_TIMEOUT, daemon=d)
    # Let anything the daemon might wrongly do with the temporaries happen, then compare exactly.
    marker = tree.write("output", "zz-marker.txt", "marker\n")
    wait_for_keys(c, signed_bucket, {marker.key()}, LAND_TIMEOUT, daemon=d)
    assert_s3_mirror(moto_signed, signed_bucket, "", tree)  # exact: no temporary names
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d)
    for tmp, _, _ in renames:
        assert not mirrored_lines(d, root / tmp), f"a temporary was reported mirrored: {tmp}\n{d.log_tail()}"


def _slow_write(path: Path, *, chunks: int = 10, chunk_size: int = 64 * 1024, interval: float = 0.2, seed: str = "slow") -> bytes:
    """Keep the file open and write+flush+fsync a chunk every `interval` (about 2 s in all)."""
    rng = random.Random(seed)
    data = bytearray()
    with open(path, "wb") as f:
        for _ in range(chunks):
            chunk = rng.randbytes(chunk_size)
            f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
            data += chunk
            time.sleep(interval)
    return bytes(data)


def _check_only_final_content(daemon, client, bucket: str, key: str, path: Path, final: bytes) -> None:
    sha = hashlib.sha256(final).hexdigest()
    wait_for_remote_sha(client, bucket, key, sha, LAND_TIMEOUT, daemon=daemon)
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha, "remote body differs from the final file"
    # The daemon never reported a partial file as mirrored.
    lines = mirrored_lines(daemon, path)
    wrong = [ln for ln in lines if f"bytes={len(final)}" not in ln]
    assert not wrong, f"the daemon reported a partial file as mirrored ({len(final)} bytes is the final size):\n" + "\n".join(lines) + "\n" + daemon.log_tail()
    # With versioning on, every PUT is kept: no version may hold anything but the final content.
    versions = object_versions(client, bucket, key)
    partial = [v for v in versions if v["sha256"] != sha or v["size"] != len(final)]
    assert not partial, (
        f"{len(partial)} of {len(versions)} versions of {key} hold a half-written file (guarantee 3): "
        f"{partial}\nfinal: size {len(final)} sha256 {sha}\n{daemon.log_tail()}"
    )


def test_slow_writer_only_final_content_lands(agent, moto_signed, tmp_path, start_daemon):
    bucket = moto_signed.create_bucket(versioned=True)
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, bucket)
    d = start_daemon().wait_watching()
    # Past the start-up reconcile: from here on only inotify events tell the daemon about files.
    marker = tree.write("output", "ready.txt", "ready\n")
    wait_for_keys(moto_signed.client(), bucket, {marker.key()}, LAND_TIMEOUT, daemon=d)

    path = root / "slow.bin"
    final = _slow_write(path)
    _check_only_final_content(d, moto_signed.client(), bucket, "output/slow.bin", path, final)
    wait_status(agent, all_clean(2), 10, daemon=d)


def test_slow_writer_in_a_new_directory_only_final_content_lands(agent, moto_signed, tmp_path, start_daemon):
    """The same slow writer, in a folder created just before: the scan of the new folder
    finds the file while it is still open and being written."""
    bucket = moto_signed.create_bucket(versioned=True)
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, bucket)
    d = start_daemon().wait_watching()
    marker = tree.write("output", "ready.txt", "ready\n")  # past the start-up reconcile
    wait_for_keys(moto_signed.client(), bucket, {marker.key()}, LAND_TIMEOUT, daemon=d)

    newdir = root / "job-7" / "renders"
    newdir.mkdir(parents=True)
    path = newdir / "slow.bin"
    final = _slow_write(path)
    _check_only_final_content(d, moto_signed.client(), bucket, "output/job-7/renders/slow.bin", path, final)
    wait_status(agent, all_clean(2), 10, daemon=d)


def test_slow_writer_during_start_up_only_final_content_lands(agent, moto_signed, tmp_path, start_daemon):
    """An application still writing when the agent (re)starts: the start-up reconcile sees
    a file that is open and growing."""
    import threading

    bucket = moto_signed.create_bucket(versioned=True)
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, bucket)
    path = root / "slow.bin"
    result: dict[str, bytes] = {}
    writer = threading.Thread(target=lambda: result.setdefault("data", _slow_write(path, chunks=12)), daemon=True)
    writer.start()
    try:
        wait_for(lambda: path.exists() and path.stat().st_size > 0, 5, interval=0.02, what="the writer's first chunk")
        d = start_daemon().wait_watching()
    finally:
        writer.join(timeout=10)
    assert not writer.is_alive()
    _check_only_final_content(d, moto_signed.client(), bucket, "output/slow.bin", path, result["data"])
    wait_status(agent, all_clean(1), 10, daemon=d)


def test_whole_tree_moved_in_from_outside_lands(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket, **MULTIPART_5MIB)
    d = start_daemon().wait_watching()

    staging = Tree()
    stage_root = staging.add_root("output", tmp_path / "staging")
    rels = ["render-42/final.mp4", "render-42/meta.json"]
    rels += [f"render-42/frames/{i:04d}.png" for i in range(12)]
    rels += [f"render-42/audio/stems/s{i}.wav" for i in range(4)]
    for rel in rels:
        staging.write("output", rel, 6 * MiB if rel.endswith(".mp4") else 2_000 + len(rel))
    staging.write("output", "render-42/frames/0000.png.part", 10, expected=False)  # excluded, stays excluded
    os.rename(stage_root / "render-42", root / "render-42")
    for f in staging.files.values():
        tree.files[("output", f.rel)] = LocalFile("output", f.rel, root / f.rel, f.data)

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, tree.keys(), LAND_TIMEOUT, daemon=d)
    assert_s3_mirror(moto_signed, signed_bucket, "", tree, multipart_parts={"output/render-42/final.mp4": 2})
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d)


def test_overwrite_replaces_the_remote_content(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket)
    d = start_daemon().wait_watching()
    c = moto_signed.client()
    key = "output/avatar.png"

    v1 = tree.write("output", "avatar.png", b"A" * 5000)
    wait_for_remote_sha(c, signed_bucket, key, v1.sha256, LAND_TIMEOUT, daemon=d)
    # In place, same size: only the content (and mtime/ctime) differ.
    v2 = tree.write("output", "avatar.png", b"B" * 5000)
    wait_for_remote_sha(c, signed_bucket, key, v2.sha256, LAND_TIMEOUT, daemon=d)
    # Atomic replace: a new file renamed over the old one.
    tmp = root / ".avatar.png.tmp"
    tmp.write_bytes(b"C" * 7777)
    os.replace(tmp, root / "avatar.png")
    tree.files[("output", "avatar.png")] = LocalFile("output", "avatar.png", root / "avatar.png", b"C" * 7777)
    wait_for_remote_sha(c, signed_bucket, key, hashlib.sha256(b"C" * 7777).hexdigest(), LAND_TIMEOUT, daemon=d)
    # Shorter content, truncating in place.
    tree.write("output", "avatar.png", b"D" * 10)
    wait_for_remote_sha(c, signed_bucket, key, hashlib.sha256(b"D" * 10).hexdigest(), LAND_TIMEOUT, daemon=d)

    assert_s3_mirror(moto_signed, signed_bucket, "", tree)
    wait_status(agent, all_clean(1), 10, daemon=d)


def test_delete_keeps_the_remote_copy(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    """LIFEBOAT_DELETE=keep (the default): neither the event nor a later rescan removes anything."""
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket, LIFEBOAT_RESCAN_INTERVAL="2s")
    d = start_daemon().wait_watching()
    c = moto_signed.client()

    kept = [tree.write("output", "gone.txt", "soon deleted\n"), tree.write("output", "dir/a.bin", 4096), tree.write("output", "dir/b/c.bin", 999)]
    wait_for_keys(c, signed_bucket, {f.key() for f in kept}, LAND_TIMEOUT, daemon=d)
    before = {f.key(): c.head_object(Bucket=signed_bucket, Key=f.key())["ETag"] for f in kept}

    (root / "gone.txt").unlink()
    shutil.rmtree(root / "dir")
    offset = len(d.log())
    marker = tree.write("output", "marker.txt", "after the deletes\n")
    wait_for_keys(c, signed_bucket, {marker.key()}, LAND_TIMEOUT, daemon=d)
    d.wait_log(r"rescanning every watch root \(periodic rescan\)", 10, after=offset)
    # The periodic rescan has run after the deletes; give its work a moment to reach the remote.
    marker2 = tree.write("output", "marker2.txt", "after the rescan\n")
    wait_for_keys(c, signed_bucket, {marker2.key()}, LAND_TIMEOUT, daemon=d)

    for f in kept:
        head = c.head_object(Bucket=signed_bucket, Key=f.key())
        assert head["ETag"] == before[f.key()], f"{f.key()} changed remotely after the local delete"
        body = c.get_object(Bucket=signed_bucket, Key=f.key())["Body"].read()
        assert body == f.data, f"{f.key()}: remote copy damaged after the local delete"
    assert remote_keys(c, signed_bucket) == {f.key() for f in kept} | {marker.key(), marker2.key()}
    assert d.alive(), d.log_tail()


# --------------------------------------------------------------------------- start-up, shutdown, locking


def test_files_written_while_down_are_picked_up_at_start(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket)
    c = moto_signed.client()

    d1 = start_daemon().wait_watching()
    tree.write("output", "before.txt", "written while running\n")
    tree.write("output", "changed.bin", 2048)
    wait_for_keys(c, signed_bucket, tree.keys(), LAND_TIMEOUT, daemon=d1)
    d1.signal(signal.SIGTERM)
    assert d1.wait_exit(15) == 0, d1.log_tail()

    # While the agent is down: new files, a changed file, a new nested folder, a deleted file.
    tree.write("output", "changed.bin", 4096)
    tree.write("output", "new.txt", "written while down\n")
    for i in range(5):
        tree.write("output", f"offline/job-{i}/out.png", 1_000 + i)

    d2 = start_daemon().wait_watching()
    wait_for_keys(c, signed_bucket, tree.keys(), LAND_TIMEOUT, daemon=d2)
    wait_for_remote_sha(c, signed_bucket, "output/changed.bin", tree.files[("output", "changed.bin")].sha256, LAND_TIMEOUT, daemon=d2)
    assert_s3_mirror(moto_signed, signed_bucket, "", tree)
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d2)


def test_files_written_during_the_start_up_scan_all_land(agent, moto_signed, signed_bucket, tmp_path, start_daemon, make_fault_proxy):
    """Files written while the start-up reconcile is still scanning reach the journal through
    inotify before that scan ends. The reconcile must not take them for vanished files (its scan
    passed their folder before they existed) and mark them gone, which makes the daemon skip
    their uploads. The tree is big enough (12,000 symlinks: scanned, never mirrored) for the scan
    to outlast the settle time; the first three PUTs of each file get a 500, so every file is
    still waiting for its retry when the reconcile ends."""
    import collections

    puts: collections.Counter[str] = collections.Counter()

    def first_three_puts(method: str, target: str) -> bool:
        if method != "PUT":
            return False
        puts[target.split("?")[0]] += 1
        return puts[target.split("?")[0]] <= 3

    proxy = make_fault_proxy(moto_signed, fault_proxy.FaultRates(internal_error=1.0), should_fault=first_three_puts)
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    for d in range(12):
        (root / f"links-{d}").mkdir()
        for i in range(1000):
            os.symlink("/nonexistent", root / f"links-{d}" / f"l{i:04d}")
    # A settle time shorter than the scan; with the default 1s the same happens on trees whose
    # scan takes longer than a second (a few hundred thousand files).
    configure(agent, tree, moto_signed, signed_bucket, endpoint=proxy.endpoint, LIFEBOAT_SETTLE="10ms")

    d = start_daemon()
    wait_for(lambda: "rescanning every watch root (start-up)" in d.log(), 30, interval=0.002, what="the start-up reconcile", details=d.log_tail)
    for i in range(6):
        tree.write("output", f"during-{i}.bin", 1_000 + i)

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, tree.keys(), 15, daemon=d)
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d)
    assert_s3_mirror(moto_signed, signed_bucket, "", tree)


def test_start_up_reconcile_survives_a_file_recorded_by_inotify_meanwhile(agent, moto_signed, signed_bucket, tmp_path, start_daemon, make_fault_proxy):
    """The start-up reconcile reads the journal, then saves every new or changed file it scanned
    in one batch. A file closed just after the scan reaches the journal through inotify in
    between: both insert the same path. The reconcile must not fail over it (losing its whole
    batch: here five files that were there before the start, found by nothing else until the
    next periodic rescan). The journal read is made slow by 3,000 stale rows left by a previous
    run that was killed while all its uploads hung."""
    proxy = make_fault_proxy(
        moto_signed, fault_proxy.FaultRates(delay=1.0), delay_range=(30.0, 30.0), should_fault=lambda method, _: method == "PUT"
    )
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    stale = root / "stale"
    stale.mkdir()
    for i in range(3000):
        (stale / f"s{i:04d}").write_bytes(b"x")
    configure(agent, tree, moto_signed, signed_bucket, endpoint=proxy.endpoint, LIFEBOAT_SETTLE="10ms")
    first = start_daemon().wait_watching()
    wait_status(agent, lambda s: s["pending"] + s["failed"] >= 3000, 30, daemon=first, what="3,000 rows queued")
    first.kill9()
    shutil.rmtree(stale)
    proxy.set_enabled(False)

    for i in range(5):
        tree.write("output", f"before-start-{i}.bin", 500 + i)
    late = root / "closed-during-start-up.bin"
    with open(late, "wb") as f:
        f.write(b"L" * 4321)
        f.flush()
        d = start_daemon()
        wait_for(lambda: "rescanning every watch root (start-up)" in d.log(), 30, interval=0.002, what="the start-up reconcile", details=d.log_tail)
    tree.files[("output", late.name)] = LocalFile("output", late.name, late, b"L" * 4321)

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, tree.keys(), 15, daemon=d)
    assert "rescan of" not in d.log(), f"a rescan failed\n{d.log_tail()}"
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d)


def test_small_files_are_not_held_up_by_large_uploads(agent, moto_signed, signed_bucket, tmp_path, start_daemon, make_fault_proxy):
    """Two large multipart uploads are in flight (every part's answer held 3 s, as on a slow
    link); small files written meanwhile must land within a couple of seconds, not wait for
    the large ones (issue 3: small files are not starved behind a multi-gigabyte render)."""
    proxy = make_fault_proxy(
        moto_signed, fault_proxy.FaultRates(delay=1.0), delay_range=(3.0, 3.0),
        should_fault=lambda method, target: method == "PUT" and "partNumber=" in target,
    )
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket, endpoint=proxy.endpoint, LIFEBOAT_CONCURRENCY="4", **MULTIPART_5MIB)
    d = start_daemon().wait_watching()
    big = [tree.write("output", f"render-{i}.mp4", 6 * MiB) for i in range(2)]
    wait_for(
        lambda: proxy.count(lambda r: "partNumber=" in r.target and r.status is None) >= 2, 20,
        interval=0.02, what="both large uploads sending parts", details=d.log_tail,
    )
    t0 = time.monotonic()
    small = [tree.write("output", f"thumbs/t{i}.png", 2_000 + i) for i in range(5)]
    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, {f.key() for f in small}, 20, daemon=d)
    took = time.monotonic() - t0
    big_done = remote_keys(c, signed_bucket) & {f.key() for f in big}
    assert took <= 2.0 and not big_done, (
        f"small files took {took:.1f}s to land while two large uploads were in flight "
        f"(large ones already done: {sorted(big_done)})\n{d.log_tail()}"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_daemon_exits_zero_promptly_on_signal(agent, moto_signed, signed_bucket, tmp_path, start_daemon, sig):
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket, LIFEBOAT_SHUTDOWN_GRACE="5s")
    d = start_daemon().wait_watching()
    f = tree.write("output", "one.txt", "one\n")
    wait_for_keys(moto_signed.client(), signed_bucket, {f.key()}, LAND_TIMEOUT, daemon=d)
    t0 = time.monotonic()
    d.signal(sig)
    rc = d.wait_exit(10)
    took = time.monotonic() - t0
    assert rc == 0, f"exit status {rc} after {signal.Signals(sig).name}\n{d.log_tail()}"
    assert took <= 5.0, f"an idle daemon took {took:.1f}s to stop (grace is 5s)\n{d.log_tail()}"


def test_sigterm_with_uploads_in_flight_exits_zero_within_grace_and_leaves_the_rest_queued(
    agent, moto_signed, signed_bucket, tmp_path, start_daemon, make_fault_proxy
):
    """Every answer is held 1-1.5 s by the proxy, so uploads are in flight when SIGTERM comes.
    Exit 0 within LIFEBOAT_SHUTDOWN_GRACE; whatever did not finish stays queued and lands
    after the next start."""
    proxy = make_fault_proxy(
        moto_signed, fault_proxy.FaultRates(delay=1.0), seed=11, delay_range=(1.0, 1.5), should_fault=lambda method, _: method == "PUT"
    )
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    grace = 4.0
    configure(agent, tree, moto_signed, signed_bucket, endpoint=proxy.endpoint, LIFEBOAT_SHUTDOWN_GRACE=f"{grace:g}s")
    d = start_daemon().wait_watching()
    for i in range(30):
        tree.write("output", f"batch/f{i:02d}.bin", 1000 + i)
    wait_for(lambda: proxy.count(lambda r: r.method == "PUT") >= 2, 15, what="uploads in flight", details=d.log_tail)

    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(grace + 10)
    took = time.monotonic() - t0
    assert rc == 0, f"exit status {rc}\n{d.log_tail()}"
    assert took <= grace + 1.0, f"took {took:.1f}s to stop; LIFEBOAT_SHUTDOWN_GRACE is {grace:g}s\n{d.log_tail()}"

    s = agent.status()
    assert s["failed"] == 0, s
    assert s["mirrored"] < len(tree.files), f"everything was mirrored before SIGTERM; the test proves nothing: {s}"
    c = moto_signed.client()
    assert len(remote_keys(c, signed_bucket)) >= s["mirrored"], "the journal says mirrored for more files than the remote holds"

    proxy.set_enabled(False)
    d2 = start_daemon().wait_watching()
    wait_for_keys(c, signed_bucket, tree.keys(), LAND_TIMEOUT, daemon=d2)
    assert_s3_mirror(moto_signed, signed_bucket, "", tree)
    wait_status(agent, all_clean(len(tree.files)), 10, daemon=d2)


def test_sigterm_with_an_upload_stalled_past_the_grace_still_exits_zero_in_bounded_time(
    agent, moto_signed, signed_bucket, tmp_path, start_daemon, make_fault_proxy
):
    """The provider holds the answer far longer than LIFEBOAT_SHUTDOWN_GRACE: the drain is
    bounded by the grace (plus the daemon's own few seconds of cancellation), it does not wait
    for the network."""
    proxy = make_fault_proxy(
        moto_signed, fault_proxy.FaultRates(delay=1.0), seed=12, delay_range=(30.0, 30.0), should_fault=lambda method, _: method == "PUT"
    )
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    grace = 2.0
    configure(agent, tree, moto_signed, signed_bucket, endpoint=proxy.endpoint, LIFEBOAT_SHUTDOWN_GRACE=f"{grace:g}s")
    d = start_daemon().wait_watching()
    tree.write("output", "stuck.bin", 10_000)
    wait_for(lambda: proxy.count(lambda r: r.method == "PUT" and r.status is None) >= 1, 15, what="the upload to reach the server", details=d.log_tail)

    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    bound = grace + 6.0  # the grace, the daemon's 5 s cancellation allowance, a second of slack
    try:
        rc = d.proc.wait(timeout=bound)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - t0
    if rc is None:
        d.kill9()
    assert rc is not None, (
        f"still running {took:.1f}s after SIGTERM (LIFEBOAT_SHUTDOWN_GRACE={grace:g}s) while one upload "
        f"waited for its answer\n{d.log_tail()}"
    )
    assert rc == 0, f"exit status {rc} after {took:.1f}s\n{d.log_tail()}"
    s = agent.status()
    assert s["pending"] + s["failed"] == 1 and s["mirrored"] == 0, f"the unfinished file must stay queued: {s}"


def test_second_run_on_the_same_journal_fails_fast_with_in_use_error(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket)
    d = start_daemon().wait_watching()

    second = agent.run("run", timeout=20, env={})
    assert second.returncode not in (0, None), f"a second daemon on the same journal did not fail\n{second.describe()}"
    assert second.elapsed < 5, f"the second daemon took {second.elapsed:.1f}s to give up\n{second.describe()}"
    assert re.search(r"in use", second.stderr, re.I), f"no 'in use' error\n{second.describe()}"
    assert str(agent.journal) in second.stderr, f"the error does not name the journal\n{second.describe()}"

    # The first one is unharmed.
    assert d.alive(), d.log_tail()
    f = tree.write("output", "still-works.txt", "yes\n")
    wait_for_keys(moto_signed.client(), signed_bucket, {f.key()}, LAND_TIMEOUT, daemon=d)


# --------------------------------------------------------------------------- volume and lost roots


def test_burst_of_1000_files_in_50_new_folders_all_land_within_60s(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    configure(agent, tree, moto_signed, signed_bucket)
    d = start_daemon().wait_watching()

    rng = random.Random(1000)
    expected: dict[str, bytes] = {}
    t0 = time.monotonic()
    for folder in range(50):
        dpath = root / f"batch-{folder:02d}"
        dpath.mkdir()
        for i in range(20):
            data = rng.randbytes(rng.randint(1, 4096))
            (dpath / f"item-{i:02d}.bin").write_bytes(data)
            expected[f"output/batch-{folder:02d}/item-{i:02d}.bin"] = data
    written = time.monotonic() - t0

    c = moto_signed.client()
    wait_for_keys(c, signed_bucket, set(expected), 60.0, daemon=d)
    took = time.monotonic() - t0
    listed = {o["Key"]: o for o in s3_inspect.list_keys(c, signed_bucket)}
    assert set(listed) == set(expected), f"extra keys: {sorted(set(listed) - set(expected))[:20]}"
    wrong = [k for k, data in expected.items() if listed[k]["ETag"].strip('"') != hashlib.md5(data).hexdigest() or listed[k]["Size"] != len(data)]
    assert not wrong, f"{len(wrong)} objects differ from their files: {wrong[:10]}"
    for k in sorted(expected)[::97]:  # a sample, fully: metadata digest
        head = c.head_object(Bucket=signed_bucket, Key=k)
        assert head["Metadata"].get("sha256") == hashlib.sha256(expected[k]).hexdigest(), k
    wait_status(agent, all_clean(1000), 20, daemon=d)
    print(f"burst: written in {written:.2f}s, all 1000 listed after {took:.2f}s")


def test_watch_root_deleted_and_recreated_is_watched_again(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    tree.add_root("other", tmp_path / "other")
    configure(agent, tree, moto_signed, signed_bucket)
    d = start_daemon().wait_watching()
    c = moto_signed.client()

    first = tree.write("output", "sub/first.txt", "before the root went away\n")
    wait_for_keys(c, signed_bucket, {first.key()}, LAND_TIMEOUT, daemon=d)

    shutil.rmtree(root)
    del tree.files[("output", "sub/first.txt")]  # gone locally; its remote copy is kept
    time.sleep(0.3)  # let the daemon see the root vanish
    root.mkdir()
    # Written into the recreated root at once, before the daemon can have re-watched it.
    tree.write("output", "again.txt", "right after the recreate\n")
    tree.write("output", "deep/er/nested.bin", 3000)
    # The other root keeps working meanwhile.
    tree.write("other", "unaffected.txt", "other root\n")
    wait_for_keys(c, signed_bucket, tree.keys(), 10, daemon=d)

    # Once re-watched, plain inotify-driven mirroring works in the new directory again.
    later = [tree.write("output", "later.txt", "written after the re-watch\n"), tree.write("output", "deep/er/later.bin", 777)]
    wait_for_keys(c, signed_bucket, {f.key() for f in later}, 10, daemon=d)
    new_dir = tree.write("output", "newdir/x/y.txt", "a folder made in the recreated root\n")
    wait_for_keys(c, signed_bucket, {new_dir.key()}, 10, daemon=d)

    want = tree.keys() | {first.key()}  # the deleted file's remote copy is kept
    assert remote_keys(c, signed_bucket) == want
    for f in tree.files.values():
        assert remote_sha256(c, signed_bucket, f.key()) == f.sha256, f.key()
    assert_s3_mirror(moto_signed, signed_bucket, "", tree, exact=False)
    assert d.alive(), d.log_tail()
