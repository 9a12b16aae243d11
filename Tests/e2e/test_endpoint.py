"""The HTTP endpoint (LIFEBOAT_LISTEN) and durable-file notifications (LIFEBOAT_NOTIFY_URL),
end to end: the real `lifeboat run` against the signature-checking moto, asked over HTTP the
way a kubelet, Prometheus or an application would; notifications land in a python receiver.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import socket
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

from conftest import DAEMON_SETTINGS, Tree, agent_env, assert_no_secret, s3_config, wait_for

LAND_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    body: str
    content_type: str

    def json(self):
        return json.loads(self.body)


def get(port: int, path: str, timeout: float = 5.0) -> Answer:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return Answer(r.status, r.read().decode("utf-8"), r.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.read().decode("utf-8"), e.headers.get("Content-Type", ""))


def try_get(port: int, path: str) -> Answer | None:
    """None while nothing listens yet."""
    try:
        return get(port, path)
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None


def file_query(path) -> str:
    return "/v1/files?path=" + urllib.parse.quote(str(path), safe="/")


class Receiver:
    """An application's webhook: records each POST; answers 500 to the first `fail_first`."""

    def __init__(self, fail_first: int = 0):
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.posts.append({"body": body, "content_type": self.headers.get("Content-Type"), "path": self.path})
                    n = len(receiver.posts)
                status = 500 if n <= fail_first else 200
                reply = b"try later" if status == 500 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lifeboat/durable"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(p["body"]) for p in self.posts]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(fail_first: int = 0) -> Receiver:
        r = Receiver(fail_first)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def start_endpoint_daemon(agent, start_daemon, tree: Tree, server, bucket: str, prefix: str, **extra: str):
    port = free_port()
    agent.configure({
        "LIFEBOAT_WATCH": tree.watch_setting(),
        **s3_config(server, bucket, prefix),
        **DAEMON_SETTINGS,
        "LIFEBOAT_LISTEN": f"127.0.0.1:{port}",
        **extra,
    })
    daemon = start_daemon()
    wait_for(lambda: (a := try_get(port, "/readyz")) is not None and a.status == 200, 30, what="/readyz 200", details=daemon.log_tail)
    return daemon, port


def test_a_new_file_is_announced_reported_mirrored_and_counted(agent, start_daemon, receiver, moto_signed, signed_bucket, tmp_path):
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    hook = receiver()
    daemon, port = start_endpoint_daemon(agent, start_daemon, tree, moto_signed, signed_bucket, "media", LIFEBOAT_NOTIFY_URL=hook.url)
    assert get(port, "/healthz").status == 200

    f = tree.write("output", "renders/clip 01.mp4", 300_000)
    events = wait_for(lambda: hook.events(), LAND_TIMEOUT, what="a notification", details=daemon.log_tail)
    event = events[0]
    assert set(event) == {"path", "key", "sha256", "size", "url"}, event
    assert event["path"] == str(f.path)
    assert event["key"] == f"media/output/renders/clip 01.mp4"
    assert event["sha256"] == f.sha256
    assert event["size"] == f.size
    assert event["url"] == f"{moto_signed.endpoint}/{signed_bucket}/media/output/renders/clip%2001.mp4"
    assert hook.posts[0]["content_type"] == "application/json"
    # The receiver may act on it at once: the object is there, and the agent says so too.
    head = moto_signed.client().head_object(Bucket=signed_bucket, Key=event["key"])
    assert head["Metadata"]["sha256"] == f.sha256

    answer = get(port, file_query(f.path))
    assert answer.status == 200, answer
    assert answer.content_type.startswith("application/json")
    state = answer.json()
    assert state["state"] == "mirrored", state
    assert state["sha256"] == f.sha256
    assert state["key"] == event["key"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", state["mirrored_at"] or ""), state

    metrics = get(port, "/metrics")
    assert metrics.status == 200
    assert metrics.content_type.startswith("text/plain")
    values = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(lifeboat_[a-z_]+(?:\{[^}]*\})?) (\S+)$", metrics.body, re.M)}
    assert values.get("lifeboat_files_mirrored_total") == 1, metrics.body
    assert values.get("lifeboat_bytes_mirrored_total") == f.size, metrics.body
    assert values.get("lifeboat_upload_duration_seconds_count") == 1, metrics.body
    assert values.get('lifeboat_rescans_total{reason="startup"}') == 1, metrics.body
    assert values.get('lifeboat_notifications_total{outcome="delivered"}') == 1, metrics.body
    for name in ("lifeboat_queue_depth", "lifeboat_watches", "lifeboat_files_pending", "lifeboat_files_failed",
                 "lifeboat_oldest_pending_age_seconds", "lifeboat_inotify_overflows_total"):
        assert name in values, f"{name} missing:\n{metrics.body}"
    assert values["lifeboat_watches"] >= 2  # the root and renders/

    status = get(port, "/v1/status")
    assert status.status == 200
    from_endpoint = status.json()
    from_command = agent.status()
    from_command.pop("_run")
    assert from_endpoint == from_command
    assert from_endpoint["mirrored"] == 1

    for text in (metrics.body, status.body, answer.body, daemon.log(), json.dumps(events)):
        assert_no_secret(text, moto_signed.secret_access_key)


def test_a_notification_that_fails_is_retried(agent, start_daemon, receiver, tmp_path):
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    remote = tmp_path / "remote"
    remote.mkdir()
    hook = receiver(fail_first=1)
    port = free_port()
    agent.configure({
        "LIFEBOAT_WATCH": tree.watch_setting(),
        "LIFEBOAT_REMOTE": f"file://{remote}",
        **DAEMON_SETTINGS,
        "LIFEBOAT_LISTEN": f"127.0.0.1:{port}",
        "LIFEBOAT_NOTIFY_URL": hook.url + "?token=s3cr3t-t0ken",
    })
    daemon = start_daemon()
    daemon.wait_watching()
    f = tree.write("output", "voice.wav", 4096)
    events = wait_for(lambda: len(hook.events()) >= 2 and hook.events(), LAND_TIMEOUT, what="a retried notification", details=daemon.log_tail)
    assert events[0] == events[1], "the retry carries the same event"
    assert events[0]["sha256"] == f.sha256
    assert events[0]["key"] == "output/voice.wav"
    assert events[0]["url"] == f"file://{remote}/output/voice.wav"
    daemon.wait_log(r"notification for .*voice\.wav.* failed: HTTP 500: try later; next attempt in")
    assert "s3cr3t-t0ken" not in daemon.log(), "the notify URL's token must not be logged"


def test_readyz_waits_for_the_remote(agent, start_daemon, tmp_path, moto_signed):
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    port = free_port()
    dead = free_port()  # nothing listens here: the remote never answers
    agent.configure({
        "LIFEBOAT_WATCH": tree.watch_setting(),
        **s3_config(moto_signed, "no-answer-bucket"),
        "LIFEBOAT_S3_ENDPOINT": f"http://127.0.0.1:{dead}",
        **DAEMON_SETTINGS,
        "LIFEBOAT_LISTEN": f"127.0.0.1:{port}",
    })
    daemon = start_daemon()
    daemon.wait_watching()
    wait_for(lambda: (a := try_get(port, "/healthz")) is not None and a.status == 200, 15, what="/healthz 200", details=daemon.log_tail)
    daemon.wait_log(r"readiness probe of the remote failed: .*; probing again in", 30)
    ready = get(port, "/readyz")
    assert ready.status == 503, ready
    assert "remote" in ready.body, ready


def test_files_endpoint_refuses_relative_paths_and_does_not_know_untracked_files(agent, start_daemon, tmp_path):
    tree = Tree()
    root = tree.add_root("output", tmp_path / "output")
    remote = tmp_path / "remote"
    remote.mkdir()
    port = free_port()
    agent.configure({
        "LIFEBOAT_WATCH": tree.watch_setting(),
        "LIFEBOAT_REMOTE": f"file://{remote}",
        **DAEMON_SETTINGS,
        "LIFEBOAT_LISTEN": f"127.0.0.1:{port}",
    })
    daemon = start_daemon()
    wait_for(lambda: (a := try_get(port, "/readyz")) is not None and a.status == 200, 30, what="/readyz 200", details=daemon.log_tail)
    assert get(port, file_query(root / "never-written.mp4")).status == 404
    assert get(port, file_query(tmp_path / "elsewhere.mp4")).status == 404
    assert get(port, "/v1/files?path=output/a.mp4").status == 400
    assert get(port, file_query(f"{root}/../output/a.mp4")).status == 400
    assert get(port, "/v1/files").status == 400
    assert get(port, "/nothing-here").status == 404


def test_a_port_in_use_is_a_configuration_error_naming_the_setting(agent, tmp_path):
    tree = Tree()
    tree.add_root("output", tmp_path / "output")
    remote = tmp_path / "remote"
    remote.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        agent.configure({
            "LIFEBOAT_WATCH": tree.watch_setting(),
            "LIFEBOAT_REMOTE": f"file://{remote}",
            **DAEMON_SETTINGS,
            "LIFEBOAT_LISTEN": f"127.0.0.1:{port}",
        })
        r = agent.run("run", timeout=60)
    assert r.returncode == 2, r.describe()
    assert "LIFEBOAT_LISTEN" in r.stderr, r.describe()
    assert f"127.0.0.1:{port}" in r.stderr, r.describe()
