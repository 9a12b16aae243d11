"""`lifeboat status`: what the journal says, as one JSON object."""

from __future__ import annotations

from conftest import Tree, assert_no_secret, s3_config

MiB = 1024 * 1024


def _remote(tmp_path) -> str:
    d = tmp_path / "remote"
    d.mkdir(exist_ok=True)
    return f"file://{d}"


def _tree(tmp_path) -> Tree:
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.add_root("voice_clone", tmp_path / "vc")
    t.write("output", "a.txt", "alpha\n")
    t.write("output", "n/e/s/t/ed.png", 12_345)
    t.write("output", "empty.txt", b"")
    t.write("voice_clone", "v.wav", 6 * MiB)
    t.write("output", "ignored.tmp", "x", expected=False)
    return t


def test_status_json_after_s3_resync_counts_every_file_mirrored(agent, moto_signed, signed_bucket, tmp_path):
    t = _tree(tmp_path)
    agent.configure({
        "LIFEBOAT_WATCH": t.watch_setting(),
        **s3_config(moto_signed, signed_bucket, "st"),
        "LIFEBOAT_MULTIPART_THRESHOLD": "5MiB",
        "LIFEBOAT_PART_SIZE": "5MiB",
    })
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    st = agent.status()
    n = len(t.files)
    desc = st["_run"].describe()
    assert st["files"] == n, desc
    assert st["mirrored"] == n, desc
    assert st["pending"] == 0, desc
    assert st["failed"] == 0, desc
    assert st["bytes_mirrored"] == t.total_bytes(), desc
    assert_no_secret(st["_run"], moto_signed.secret_access_key)


def test_status_json_after_file_resync_counts_every_file_mirrored(agent, tmp_path):
    t = _tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": _remote(tmp_path)})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    st = agent.status()
    desc = st["_run"].describe()
    assert (st["files"], st["mirrored"], st["pending"], st["failed"]) == (len(t.files), len(t.files), 0, 0), desc
    assert st["bytes_mirrored"] == t.total_bytes(), desc


def test_status_json_counts_a_changed_file_once(agent, tmp_path):
    t = _tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": _remote(tmp_path)})
    assert agent.resync().returncode == 0
    t.write("output", "a.txt", "alpha, second version, longer\n")
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    st = agent.status()
    desc = st["_run"].describe()
    assert st["files"] == len(t.files), desc
    assert st["mirrored"] == len(t.files), desc
    assert st["bytes_mirrored"] == t.total_bytes(), desc


def test_status_json_on_a_fresh_journal_is_all_zero(agent, tmp_path):
    t = _tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": _remote(tmp_path)})
    st = agent.status()
    desc = st["_run"].describe()
    assert (st["files"], st["mirrored"], st["pending"], st["failed"], st["bytes_mirrored"]) == (0, 0, 0, 0, 0), desc


def test_status_without_json_exits_zero(agent, tmp_path):
    t = _tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": _remote(tmp_path)})
    assert agent.resync().returncode == 0
    r = agent.run("status")
    assert r.returncode == 0, r.describe()
    assert r.stdout.strip(), r.describe()


def test_version_exits_zero(agent):
    r = agent.run("--version", config=False)
    assert r.returncode == 0, r.describe()
    assert r.stdout.strip(), r.describe()


def test_status_json_answers_when_the_file_remote_is_not_mounted(agent, tmp_path):
    """status reports what the journal says; it is the command an operator runs to find out
    why mirroring stopped, so an absent remote must not turn it into a config error."""
    t = _tree(tmp_path)
    remote = tmp_path / "remote"
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "LIFEBOAT_REMOTE": _remote(tmp_path)})
    assert agent.resync().returncode == 0
    remote.rename(tmp_path / "unmounted")
    st = agent.status()
    assert st["mirrored"] == len(t.files), st["_run"].describe()
