"""LIFEBOAT_RESTORE_ON_START=if-empty: a sidecar after a redeploy starts with empty volumes and
no journal; `lifeboat run` restores first, then watches, and uploads nothing it restored."""
from __future__ import annotations

import hashlib
import os
import shutil
import time

from conftest import DAEMON_SETTINGS, Tree, s3_config, wait_for


def test_run_restores_empty_watches_before_watching(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    output = tree.add_root("output", tmp_path / "app" / "output")
    tree.add_root("voice_clone", tmp_path / "app" / "voice_clone")
    files = {
        ("output", "renders/clip.mp4"): os.urandom(300_000),
        ("output", "meta.json"): b'{"seed": 1}\n',
        ("voice_clone", "speaker.npy"): os.urandom(4_096),
    }
    for (root, rel), data in files.items():
        tree.write(root, rel, data, mode=0o640, mtime=1_700_000_000.5)
    settings = {"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(moto_signed, signed_bucket), **DAEMON_SETTINGS,
                "LIFEBOAT_RESTORE_ON_START": "if-empty"}
    agent.configure(settings)
    first = agent.resync()
    assert first.returncode == 0, first.describe()

    # The container is gone: directories and journal with it.
    shutil.rmtree(tmp_path / "app")
    shutil.rmtree(agent.journal.parent)

    d = start_daemon().wait_watching(timeout=60)
    for (root, rel), data in files.items():
        path = tree.roots[root] / rel
        wait_for(lambda: path.exists() and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest(),
                 30, what=f"{rel} restored", details=d.log_tail)
        st = path.stat()
        assert st.st_mode & 0o777 == 0o640
        assert abs(st.st_mtime - 1_700_000_000.5) < 1e-6
    assert "restor" in d.log()
    assert " mirrored " + str(output) not in d.log(), "a restored file was uploaded again:\n" + d.log_tail()

    # And it goes on watching: a new file lands.
    new = tree.write("output", "after.txt", "written after the restore\n")
    client = moto_signed.client()
    wait_for(lambda: _exists(client, signed_bucket, new.key()), 20, what="a file written after the restore", details=d.log_tail)


def _exists(client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
        return True
    except Exception:
        return False


def test_restore_beside_a_running_daemon_causes_no_upload(agent, moto_signed, signed_bucket, tmp_path, start_daemon):
    tree = Tree()
    output = tree.add_root("output", tmp_path / "output")
    settings = {"LIFEBOAT_WATCH": tree.watch_setting(), **s3_config(moto_signed, signed_bucket), **DAEMON_SETTINGS}
    agent.configure(settings)
    d = start_daemon().wait_watching()
    lost = tree.write("output", "renders/lost.mp4", os.urandom(200_000))
    client = moto_signed.client()
    wait_for(lambda: _exists(client, signed_bucket, lost.key()), 20, what="the first upload", details=d.log_tail)
    wait_for(lambda: d.log().count(f"mirrored {lost.path}") == 1, 10, what="the mirrored log line", details=d.log_tail)

    lost.path.unlink()  # deleted by accident; the remote copy is kept (LIFEBOAT_DELETE=keep)
    restored = agent.run("restore")
    assert restored.returncode == 0, restored.describe()
    assert lost.path.read_bytes() == lost.data

    time.sleep(2)  # well past the settle time: a re-upload would have happened by now
    assert d.log().count(f"mirrored {lost.path}") == 1, "the restored file was uploaded again:\n" + d.log_tail()
