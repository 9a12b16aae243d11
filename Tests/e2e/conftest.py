"""Shared fixtures for Lifeboat's end-to-end tests.

The tests drive the real `lifeboat` binary (env LBTEST_BIN, default
<repo>/.build/debug/lifeboat) and check the results with boto3, never with
Lifeboat's own code. Two moto servers serve the whole session:

* moto_signed   -- checks SigV4 signatures; use plain ASCII keys without parentheses
                   (moto wrongly rejects correctly signed requests for other keys).
* moto_unsigned -- accepts any credentials; use it for odd key names.

Every test gets a fresh bucket, a fresh tmp_path with its own journal, and an
environment with no AWS_* or LIFEBOAT_* variables from the caller's shell.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shlex
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import pytest

REPO = Path(__file__).resolve().parents[2]
SUPPORT = REPO / "Tests" / "Support"
sys.path.insert(0, str(SUPPORT))

import moto_fixture  # noqa: E402
import s3_inspect  # noqa: E402

DEFAULT_TIMEOUT_S = 120
MiB = 1024 * 1024

# Variables never handed to the agent from the caller's environment.
_AGENT_ENV_DROP = ("AWS_", "LIFEBOAT_", "LBTEST_")


# --------------------------------------------------------------------------- binary


def lifeboat_path() -> Path:
    return Path(os.environ.get("LBTEST_BIN") or REPO / ".build" / "debug" / "lifeboat")


@pytest.fixture(scope="session")
def lifeboat_bin() -> Path:
    p = lifeboat_path()
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(
            f"lifeboat binary not found at {p}: run `swift build` first or set LBTEST_BIN",
            pytrace=False,
        )
    return p


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without AWS_*, LIFEBOAT_*, LBTEST_*; plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_AGENT_ENV_DROP)}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------- moto


@pytest.fixture(scope="session")
def moto_signed():
    server = moto_fixture.start(signed=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_unsigned():
    server = moto_fixture.start(signed=False)
    try:
        yield server
    finally:
        server.stop()


def s3_config(server: "moto_fixture.MotoServer", bucket: str, prefix: str = "") -> dict[str, str]:
    """Config keys pointing the agent at `server`/`bucket`/`prefix`."""
    remote = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    return {
        "LIFEBOAT_REMOTE": remote,
        "LIFEBOAT_S3_ENDPOINT": server.endpoint,
        "LIFEBOAT_S3_REGION": server.region,
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
    }


# --------------------------------------------------------------------------- running the agent


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    @property
    def summary(self) -> str:
        lines = [ln for ln in self.stdout.splitlines() if ln.strip()]
        return lines[-1] if lines else ""

    def count(self, word: str) -> int:
        """N from "N <word>" in the summary line (the last line of stdout)."""
        m = re.search(r"(\d+)\s+" + re.escape(word), self.summary)
        assert m, f"summary line has no '<N> {word}': {self.summary!r}\n{self.describe()}"
        return int(m.group(1))

    def describe(self, limit: int = 6000) -> str:
        def cut(s: str) -> str:
            return s if len(s) <= limit else s[:limit // 2] + "\n[...]\n" + s[-limit // 2:]

        return (
            f"$ {shlex.join(self.args)}\n"
            f"exit status {self.returncode} after {self.elapsed:.1f}s\n"
            f"--- stdout ---\n{cut(self.stdout)}\n--- stderr ---\n{cut(self.stderr)}"
        )


class Agent:
    """One agent instance: a config file and a journal in tmp_path."""

    def __init__(self, binary: Path, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.conf = workdir / "agent.conf"
        self.journal = workdir / "state" / "journal.db"
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        self.settings: dict[str, str] = {}

    # config -----------------------------------------------------------------

    def configure(self, settings: dict[str, str], *, journal: bool = True, extra_lines: Iterable[str] = ()) -> Path:
        """Write agent.conf: a comment header, a blank line, then KEY=VALUE lines in order."""
        s = dict(settings)
        if journal:
            s.setdefault("LIFEBOAT_JOURNAL", str(self.journal))
        self.settings = s
        lines = ["# agent.conf written by Tests/e2e", ""]
        lines += [f"{k}={v}" for k, v in s.items()]
        lines += list(extra_lines)
        return self.write_lines(lines)

    def write_lines(self, lines: list[str]) -> Path:
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.conf

    def line_of(self, prefix: str) -> int:
        """1-based line number of the first config line starting with `prefix`."""
        for i, ln in enumerate(self.conf.read_text(encoding="utf-8").splitlines(), 1):
            if ln.startswith(prefix):
                return i
        raise AssertionError(f"{prefix!r} not in {self.conf}")

    # running ----------------------------------------------------------------

    def run(
        self,
        *args: str,
        config: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> Run:
        argv = [str(self.binary), *args]
        if config:
            argv += ["--config", str(self.conf)]
        t0 = time.monotonic()
        try:
            p = subprocess.run(
                argv,
                env=agent_env(env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                cwd=str(self.workdir),
            )
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            err = (e.stderr or b"").decode("utf-8", "replace")
            pytest.fail(
                f"$ {shlex.join(argv)}\ndid not finish within {timeout}s\n--- stdout ---\n{out}\n--- stderr ---\n{err}",
                pytrace=False,
            )
        return Run(
            argv,
            p.returncode,
            p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"),
            time.monotonic() - t0,
        )

    def resync(self, *args: str, **kw: Any) -> Run:
        return self.run("resync", *args, **kw)

    def status(self, **kw: Any) -> dict[str, Any]:
        r = self.run("status", "--json", **kw)
        assert r.returncode == 0, r.describe()
        try:
            obj = json.loads(r.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"status --json stdout is not one JSON object: {e}\n{r.describe()}") from None
        assert isinstance(obj, dict), r.describe()
        for k in ("files", "mirrored", "pending", "failed", "bytes_mirrored"):
            assert k in obj, f"status --json lacks {k!r}\n{r.describe()}"
            assert isinstance(obj[k], int) and not isinstance(obj[k], bool), f"{k} is not an integer\n{r.describe()}"
        obj["_run"] = r
        return obj


@pytest.fixture
def agent(lifeboat_bin: Path, tmp_path: Path) -> Agent:
    return Agent(lifeboat_bin, tmp_path)


@pytest.fixture
def signed_bucket(moto_signed) -> str:
    return moto_signed.create_bucket()


@pytest.fixture
def unsigned_bucket(moto_unsigned) -> str:
    return moto_unsigned.create_bucket()


# --------------------------------------------------------------------------- local trees


@dataclass
class LocalFile:
    watch: str  # watch NAME
    rel: str  # path relative to the watch root, "/"-separated
    path: Path
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def key(self, prefix: str = "") -> str:
        return f"{prefix}/{self.watch}/{self.rel}" if prefix else f"{self.watch}/{self.rel}"


@dataclass
class Tree:
    """Watch roots and the regular files we expect the agent to mirror."""

    roots: dict[str, Path] = field(default_factory=dict)
    files: dict[tuple[str, str], LocalFile] = field(default_factory=dict)

    def add_root(self, name: str, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        self.roots[name] = path
        return path

    def watch_setting(self) -> str:
        return ",".join(f"{n}={p}" for n, p in self.roots.items())

    def write(
        self,
        watch: str,
        rel: str,
        data: bytes | int | str,
        mode: int | None = None,
        mtime: float | None = None,
        expected: bool = True,
    ) -> LocalFile:
        """Write a file; `data` may be bytes, text, or a size (deterministic random bytes)."""
        if isinstance(data, int):
            data = random.Random(f"{watch}/{rel}/{data}").randbytes(data)
        elif isinstance(data, str):
            data = data.encode("utf-8")
        path = self.roots[watch] / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mode is not None:
            os.chmod(path, mode)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        f = LocalFile(watch, rel, path, data)
        if expected:
            self.files[(watch, rel)] = f
        else:
            self.files.pop((watch, rel), None)
        return f

    def total_bytes(self) -> int:
        return sum(f.size for f in self.files.values())

    def keys(self, prefix: str = "") -> set[str]:
        return {f.key(prefix) for f in self.files.values()}


# --------------------------------------------------------------------------- checks


_CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    ".txt": ("text/plain",),
    ".png": ("image/png",),
    ".jpg": ("image/jpeg",),
    ".mp4": ("video/mp4",),
    ".wav": ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"),
    ".json": ("application/json",),
}


def expected_content_types(rel: str) -> tuple[str, ...] | None:
    """Acceptable Content-Type media types for a name, or None if we don't judge it."""
    name = rel.rsplit("/", 1)[-1]
    ext = os.path.splitext(name)[1].lower()
    if ext in _CONTENT_TYPES:
        return _CONTENT_TYPES[ext]
    if ext in ("", ".qqqz", ".lbunknown"):
        return ("application/octet-stream",)
    return None


def media_type(ct: str | None) -> str:
    return (ct or "").split(";", 1)[0].strip().lower()


def check_mtime_meta(value: str | None, st: os.stat_result, what: str) -> None:
    assert value is not None, f"{what}: no x-amz-meta-mtime"
    assert re.fullmatch(r"\d+(\.\d+)?", value), f"{what}: mtime {value!r} is not decimal Unix seconds"
    got_ns = Decimal(value) * 1_000_000_000
    diff = abs(got_ns - st.st_mtime_ns)
    assert diff <= 1000, f"{what}: mtime {value} differs from st_mtime_ns {st.st_mtime_ns} by {diff} ns"


def check_mode_meta(value: str | None, st: os.stat_result, what: str) -> None:
    assert value is not None, f"{what}: no x-amz-meta-mode"
    try:
        got = int(value, 8)
    except ValueError:
        raise AssertionError(f"{what}: mode {value!r} is not octal") from None
    want = stat.S_IMODE(st.st_mode)
    assert got == want, f"{what}: mode {value!r} (={oct(got)}) but file has {oct(want)}"


def inspect(server, bucket: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    """key -> description of every object under prefix (boto3, listing without server prefix)."""
    return {o["key"]: o for o in s3_inspect.inspect_bucket(server.client(), bucket, prefix)}


def assert_s3_mirror(
    server,
    bucket: str,
    prefix: str,
    tree: Tree,
    *,
    exact: bool = True,
    multipart_parts: dict[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every expected file landed byte for byte at PREFIX/NAME/REL with correct metadata.

    With exact=True nothing else may exist under the prefix (whole bucket when prefix is
    empty). Returns the inspected objects by key."""
    scope = f"{prefix}/" if prefix else ""
    objs = inspect(server, bucket, scope)
    want = tree.keys(prefix)
    missing = sorted(want - set(objs))
    problems: list[str] = []
    if missing:
        problems.append(f"missing keys: {missing}")
    if exact:
        extra = sorted(set(objs) - want)
        if extra:
            problems.append(f"unexpected keys: {extra}")
    for f in tree.files.values():
        k = f.key(prefix)
        o = objs.get(k)
        if o is None:
            continue
        st = f.path.stat()
        what = repr(k)
        try:
            assert o["size"] == f.size, f"{what}: size {o['size']} != {f.size}"
            assert o["sha256"] == f.sha256, f"{what}: body sha256 {o['sha256']} != {f.sha256}"
            meta = o["metadata"]
            assert meta.get("sha256") == f.sha256, f"{what}: x-amz-meta-sha256 {meta.get('sha256')!r} != {f.sha256}"
            check_mtime_meta(meta.get("mtime"), st, what)
            check_mode_meta(meta.get("mode"), st, what)
            cts = expected_content_types(f.rel)
            if cts is not None:
                assert media_type(o["content_type"]) in cts, f"{what}: Content-Type {o['content_type']!r}, want one of {cts}"
            ck = o.get("checksum_sha256")
            if ck:
                m = re.search(r"-(\d+)$", o["etag"])
                assert checksum_matches(ck, f.data, int(m.group(1)) if m else None), (
                    f"{what}: x-amz-checksum-sha256 {ck!r} matches neither the content's SHA-256 "
                    f"nor the composite of its 5 MiB parts"
                )
            if multipart_parts and k in multipart_parts:
                n = multipart_parts[k]
                assert o["etag"].endswith(f"-{n}"), f"{what}: ETag {o['etag']!r} is not a {n}-part multipart ETag"
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "remote does not mirror the tree:\n  " + "\n  ".join(problems)
    return objs


def checksum_matches(value: str, data: bytes, parts: int | None, part_size: int = 5 * MiB) -> bool:
    """value is the object's x-amz-checksum-sha256: the full-content digest, or for a
    multipart object the composite (SHA-256 of the parts' digests, optionally "-N")."""
    import base64

    full = base64.b64encode(hashlib.sha256(data).digest()).decode()
    base = value.split("-", 1)[0] if re.search(r"-\d+$", value) else value
    if base == full:
        return True
    if parts:
        digests = b"".join(hashlib.sha256(data[i:i + part_size]).digest() for i in range(0, len(data), part_size))
        return base == base64.b64encode(hashlib.sha256(digests).digest()).decode()
    return False


def assert_dir_mirror(remote_root: Path, tree: Tree, *, exact: bool = True) -> None:
    """file:// remote: every expected file at PATH/NAME/REL byte for byte, mode and mtime set."""
    problems: list[str] = []
    present: set[str] = set()
    if remote_root.exists():
        for dirpath, _dirs, files in os.walk(remote_root):
            for n in files:
                present.add(str((Path(dirpath) / n).relative_to(remote_root)))
    want = tree.keys("")
    missing = sorted(want - present)
    if missing:
        problems.append(f"missing files: {missing}")
    if exact:
        extra = sorted(present - want)
        if extra:
            problems.append(f"unexpected files (temporaries left behind?): {extra}")
    for f in tree.files.values():
        dst = remote_root / f.watch / f.rel
        if not dst.exists():
            continue
        what = str(dst)
        src_st = f.path.stat()
        dst_st = dst.lstat()
        if not stat.S_ISREG(dst_st.st_mode):
            problems.append(f"{what}: not a regular file")
            continue
        if dst.read_bytes() != f.data:
            problems.append(f"{what}: content differs")
        if stat.S_IMODE(dst_st.st_mode) != stat.S_IMODE(src_st.st_mode):
            problems.append(f"{what}: mode {oct(stat.S_IMODE(dst_st.st_mode))} != {oct(stat.S_IMODE(src_st.st_mode))}")
        if abs(dst_st.st_mtime_ns - src_st.st_mtime_ns) > 1000:
            problems.append(f"{what}: mtime_ns {dst_st.st_mtime_ns} != {src_st.st_mtime_ns}")
    assert not problems, "file remote does not mirror the tree:\n  " + "\n  ".join(problems)


def assert_no_secret(run_or_text: Run | str, *secrets: str) -> None:
    text = run_or_text.output if isinstance(run_or_text, Run) else run_or_text
    for s in secrets:
        if s and s in text:
            where = run_or_text.describe() if isinstance(run_or_text, Run) else text[:2000]
            raise AssertionError(f"a secret ({s[:3]}...) appears in the output:\n{where}")


# --------------------------------------------------------------------------- traffic tap


class TcpTap:
    """A loopback TCP relay in front of an HTTP server that records what clients send.

    Nothing is changed on the wire (so SigV4 signatures stay valid); the bytes
    sent by clients are kept for inspection. Threads are daemons and every wait is
    bounded."""

    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(64)
        self._lsock.settimeout(0.2)
        self.port = self._lsock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._sent = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)

    @property
    def client_bytes(self) -> bytes:
        with self._lock:
            return bytes(self._sent)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                c, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, c: socket.socket) -> None:
        try:
            u = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            c.close()
            return
        for s in (c, u):
            s.settimeout(0.2)
        up = threading.Thread(target=self._pump, args=(c, u, True), daemon=True)
        up.start()
        self._pump(u, c, False)
        up.join(timeout=5)
        for s in (c, u):
            try:
                s.close()
            except OSError:
                pass

    def _pump(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        idle_deadline = time.monotonic() + 300
        while not self._stop.is_set() and time.monotonic() < idle_deadline:
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            idle_deadline = time.monotonic() + 300
            if record:
                with self._lock:
                    self._sent += data
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        try:
            self._lsock.close()
        except OSError:
            pass
        for t in self._threads:
            t.join(timeout=2)


# --------------------------------------------------------------------------- the daemon

import fault_proxy  # noqa: E402

# Settings every daemon test starts from: quick settle, no HTTP endpoint, no periodic
# rescans unless a test asks for them.
DAEMON_SETTINGS = {
    "LIFEBOAT_SETTLE": "100ms",
    "LIFEBOAT_LISTEN": "",
    "LIFEBOAT_RESCAN_INTERVAL": "1h",
}
MULTIPART_5MIB = {"LIFEBOAT_MULTIPART_THRESHOLD": "5MiB", "LIFEBOAT_PART_SIZE": "5MiB"}


def wait_for(predicate, timeout: float, *, interval: float = 0.1, what: str = "condition", details=None):
    """Poll `predicate` until it returns something truthy (returned) or `timeout` passes (AssertionError
    naming `what`, the last value and `details()` -- e.g. the daemon's log)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            extra = ""
            if details is not None:
                try:
                    extra = "\n" + details()
                except Exception as e:  # noqa: BLE001
                    extra = f"\n(details unavailable: {e})"
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}; last value: {last!r}{extra}")
        time.sleep(interval)


class Daemon:
    """One `lifeboat run` process: stderr and stdout go to a log file in the agent's workdir.
    Always stopped (SIGKILL if need be) by the fixture that made it."""

    def __init__(self, agent: Agent, env: dict[str, str] | None = None, name: str = "daemon"):
        self.agent = agent
        self.env = env
        self.log_path = agent.workdir / f"{name}-{int(time.monotonic() * 1000)}.log"
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> "Daemon":
        argv = [str(self.agent.binary), "run", "--config", str(self.agent.conf)]
        self._log = open(self.log_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            argv,
            env=agent_env(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(self.agent.workdir),
            close_fds=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, limit: int = 6000) -> str:
        text = self.log()
        if len(text) > limit:
            text = "[...]\n" + text[-limit:]
        state = "running" if self.alive() else f"exited with {self.returncode}"
        return f"--- lifeboat run (pid {self.proc.pid if self.proc else '-'}, {state}) log {self.log_path} ---\n{text}"

    def wait_log(self, pattern: str, timeout: float = 15.0, *, after: int = 0) -> re.Match:
        """The first match of regex `pattern` in the log (from offset `after`)."""
        rx = re.compile(pattern, re.M)

        def probe():
            m = rx.search(self.log(), after)
            if m is None and not self.alive():
                raise AssertionError(f"daemon exited before logging /{pattern}/\n{self.log_tail()}")
            return m

        return wait_for(probe, timeout, what=f"log line /{pattern}/", details=self.log_tail)

    def wait_watching(self, timeout: float = 15.0) -> "Daemon":
        """Until the watches are placed (the daemon logs this before its start-up reconcile)."""
        self.wait_log(r"\bwatching \d+ director", timeout)
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"daemon still running {timeout:.1f}s later\n{self.log_tail()}") from None

    def kill9(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Teardown: SIGKILL (the journal is crash-proof, and graceful stops cost seconds; the
        tests that care about SIGTERM send it themselves); idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._log.close()
        except (OSError, AttributeError):
            pass


@pytest.fixture
def start_daemon(agent):
    """start_daemon(env=None, agent=None) -> a running Daemon, stopped at teardown."""
    started: list[Daemon] = []

    def start(env: dict[str, str] | None = None, agent_: Agent | None = None) -> Daemon:
        d = Daemon(agent_ or agent, env, name=f"daemon{len(started) + 1}").start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


@pytest.fixture
def make_fault_proxy():
    """make_fault_proxy(server, rates=None, seed=0, **kw) -> a started FaultProxy, stopped at teardown."""
    proxies: list[fault_proxy.FaultProxy] = []

    def make(server, rates: "fault_proxy.FaultRates | None" = None, seed: int | str = 0, **kw: Any) -> fault_proxy.FaultProxy:
        p = fault_proxy.FaultProxy(server.port, rates=rates, seed=seed, **kw).start()
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.stop()


def remote_keys(client, bucket: str, prefix: str = "") -> set[str]:
    return {o["Key"] for o in s3_inspect.list_keys(client, bucket, prefix)}


def wait_for_keys(client, bucket: str, want: set[str], timeout: float, *, daemon: Daemon | None = None, prefix: str = "") -> set[str]:
    """Until every key in `want` is listed; returns the listed keys."""
    def probe():
        have = remote_keys(client, bucket, prefix)
        return have if want <= have else None

    def details() -> str:
        have = remote_keys(client, bucket, prefix)
        missing = sorted(want - have)
        text = f"{len(missing)} of {len(want)} keys missing: {missing[:20]}{' ...' if len(missing) > 20 else ''}"
        return text + ("\n" + daemon.log_tail() if daemon else "")

    return wait_for(probe, timeout, interval=0.2, what=f"{len(want)} keys", details=details)


def remote_sha256(client, bucket: str, key: str) -> str | None:
    """x-amz-meta-sha256 of the object, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return client.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get("sha256")
    except ClientError as e:
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return None
        raise


def wait_for_remote_sha(client, bucket: str, key: str, sha256: str, timeout: float, *, daemon: Daemon | None = None) -> None:
    wait_for(
        lambda: remote_sha256(client, bucket, key) == sha256,
        timeout,
        interval=0.1,
        what=f"{key} with sha256 {sha256[:12]}...",
        details=(lambda: f"remote has {remote_sha256(client, bucket, key)}\n" + (daemon.log_tail() if daemon else "")),
    )


def wait_status(agent: Agent, predicate, timeout: float, *, daemon: Daemon | None = None, what: str = "status") -> dict[str, Any]:
    """Poll `status --json` (beside the running daemon) until predicate(status) holds."""
    last: dict[str, Any] = {}

    def probe():
        nonlocal last
        last = agent.status(timeout=30)
        return last if predicate(last) else None

    def details() -> str:
        shown = {k: v for k, v in last.items() if k != "_run"}
        return f"last status: {shown}" + ("\n" + daemon.log_tail() if daemon else "")

    return wait_for(probe, timeout, interval=0.3, what=what, details=details)
