#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 proxy for Lifeboat's S3 tests.

It listens on 127.0.0.1 (a random port unless told otherwise), relays HTTP/1.1
requests to an upstream server on the loopback interface (moto in the tests), and
for a configurable share of requests (seeded random) does one of:

    slowdown        answer 503 with an S3 <Error><Code>SlowDown</Code> body, not forwarded
    internal_error  answer 500 with an S3 <Error><Code>InternalError</Code> body, not forwarded
    drop_before     read the request, then reset the connection; upstream never sees it
    drop_after      forward it, let upstream apply it and answer, then reset the connection
                    without relaying the answer
    delay           forward it, then hold the answer for a random 1-2 s before relaying

Requests are relayed byte for byte (so SigV4 signatures stay valid), one upstream
connection per client connection, keep-alive on both sides. Bodies are framed by
Content-Length or chunked transfer encoding; HEAD answers (and 1xx/204/304) have
no body whatever their Content-Length says. `Expect: 100-continue` is answered by
the proxy itself and the header is not forwarded (no signer signs it).

Everything is bounded: connections, header sizes, idle and upstream timeouts. The
upstream must be a loopback address.

Library use::

    from fault_proxy import FaultProxy, FaultRates
    with FaultProxy(upstream_port=moto.port, rates=FaultRates.third(), seed=7) as proxy:
        ... point the client at proxy.endpoint ...
        print(proxy.counters())   # {"requests": N, "forwarded": N, "slowdown": N, ...}

Standalone::

    python3 Tests/Support/fault_proxy.py --upstream 127.0.0.1:PORT [--port 0] [--seed 1]
        [--slowdown 0.07] [--internal-error 0.07] [--drop-before 0.07]
        [--drop-after 0.07] [--delay 0.06] [--delay-min 1] [--delay-max 2]

prints one JSON line {"endpoint", "port"} on stdout, logs one line per request on
stderr, and runs until SIGTERM/SIGINT (or stdin closes, with --until-stdin-eof);
it prints the counters as JSON on stderr when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import json
import random
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Callable

FAULT_KINDS = ("slowdown", "internal_error", "drop_before", "drop_after", "delay")

_MAX_HEAD = 64 * 1024  # request or response head
_MAX_LINE = 8 * 1024  # chunk-size and trailer lines
_IO_CHUNK = 64 * 1024


@dataclass
class FaultRates:
    """Probability of each fault per request; the rest are relayed untouched."""

    slowdown: float = 0.0
    internal_error: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    delay: float = 0.0

    @classmethod
    def third(cls) -> "FaultRates":
        """Roughly a third of requests get a fault, every kind represented."""
        return cls(slowdown=0.07, internal_error=0.07, drop_before=0.07, drop_after=0.07, delay=0.06)

    @classmethod
    def none(cls) -> "FaultRates":
        return cls()

    def total(self) -> float:
        return sum(asdict(self).values())

    def validate(self) -> None:
        for k, v in asdict(self).items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"fault rate {k}={v} is not within [0, 1]")
        if self.total() > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total():.3f} > 1")


@dataclass
class RequestRecord:
    at: float  # time.monotonic()
    method: str
    target: str
    fault: str | None
    status: int | None = None  # what the client got (None: nothing, the connection was dropped)


class _Dropped(Exception):
    """The client connection is to be reset."""


class _Closed(Exception):
    """A peer closed or timed out; end this connection quietly."""


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        upstream_host: str = "127.0.0.1",
        rates: FaultRates | None = None,
        seed: int | str | None = 0,
        delay_range: tuple[float, float] = (1.0, 2.0),
        listen_port: int = 0,
        max_connections: int = 128,
        idle_timeout: float = 120.0,
        upstream_timeout: float = 60.0,
        should_fault: Callable[[str, str], bool] | None = None,
        history: int = 10_000,
        log: Callable[[str], None] | None = None,
    ):
        """`should_fault(method, target)` may exempt requests from faults (default: all
        eligible). `history` bounds the list of recent requests kept for inspection."""
        if not ipaddress.ip_address(socket.gethostbyname(upstream_host)).is_loopback:
            raise ValueError(f"upstream {upstream_host} is not a loopback address")
        self.upstream = (upstream_host, int(upstream_port))
        self._rates = rates or FaultRates.none()
        self._rates.validate()
        self._rng = random.Random(seed)
        lo, hi = delay_range
        if not 0 <= lo <= hi <= 60:
            raise ValueError(f"delay range {delay_range} must be within 0..60 s and ordered")
        self._delay_range = (float(lo), float(hi))
        self._listen_port = listen_port
        self._max_connections = max_connections
        self._idle_timeout = idle_timeout
        self._upstream_timeout = upstream_timeout
        self._should_fault = should_fault
        self._log = log
        self._lock = threading.Lock()
        self._counters: collections.Counter[str] = collections.Counter()
        self._history: collections.deque[RequestRecord] = collections.deque(maxlen=history)
        self._enabled = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self.port = 0
        self.endpoint = ""

    # ------------------------------------------------------------------ control

    def start(self, timeout: float = 10.0) -> "FaultProxy":
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run_loop, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("fault proxy did not start in time")
        if self._start_error is not None:
            raise RuntimeError(f"fault proxy failed to start: {self._start_error}") from self._start_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listener and every connection; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(self._shutdown_in_loop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def set_rates(self, rates: FaultRates) -> None:
        rates.validate()
        with self._lock:
            self._rates = rates

    def set_enabled(self, enabled: bool) -> None:
        """Turn fault injection off (relay everything) or back on."""
        with self._lock:
            self._enabled = enabled

    def counters(self) -> dict[str, int]:
        """requests, forwarded, answered, plus one count per fault kind (always present)."""
        with self._lock:
            out = {k: 0 for k in ("requests", "forwarded", "answered", *FAULT_KINDS)}
            out.update(self._counters)
            return out

    def faults(self) -> dict[str, int]:
        c = self.counters()
        return {k: c[k] for k in FAULT_KINDS}

    def history(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._history)

    def count(self, predicate: Callable[[RequestRecord], bool]) -> int:
        return sum(1 for r in self.history() if predicate(r))

    # ------------------------------------------------------------------ loop

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(
                        self._client_task, host="127.0.0.1", port=self._listen_port, limit=_MAX_HEAD, backlog=128
                    )
                )
            except BaseException as e:  # noqa: BLE001 -- reported by start()
                self._start_error = e
                self._ready.set()
                return
            self.port = self._server.sockets[0].getsockname()[1]
            self.endpoint = f"http://127.0.0.1:{self.port}"
            self._ready.set()
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=5))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def _shutdown_in_loop(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._tasks):
            t.cancel()
        assert self._loop is not None
        self._loop.call_later(0.05, self._loop.stop)

    # ------------------------------------------------------------------ bookkeeping

    def _note(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counters[key] += n

    def _choose_fault(self, method: str, target: str) -> str | None:
        with self._lock:
            if not self._enabled or target.startswith("/moto-api"):
                return None
            if self._should_fault is not None and not self._should_fault(method, target):
                return None
            r = self._rng.random()
            acc = 0.0
            for kind in FAULT_KINDS:
                acc += getattr(self._rates, kind)
                if r < acc:
                    return kind
            return None

    def _delay_seconds(self) -> float:
        with self._lock:
            return self._rng.uniform(*self._delay_range)

    def _record(self, rec: RequestRecord) -> None:
        with self._lock:
            self._history.append(rec)

    def _logline(self, rec: RequestRecord) -> None:
        if self._log is not None:
            self._log(f"{rec.method} {rec.target} fault={rec.fault or '-'} status={rec.status if rec.status is not None else 'dropped'}")

    # ------------------------------------------------------------------ per connection

    async def _client_task(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._tasks) >= self._max_connections:
            self._note("refused_connections")
            _reset(cwriter)
            return
        self._tasks.add(task)
        self._note("connections")
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                keep, up = await self._one_exchange(creader, cwriter, up)
                if not keep:
                    break
            await _close(cwriter)
        except _Dropped:
            _reset(cwriter)
        except (_Closed, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            _reset(cwriter)
        except asyncio.CancelledError:
            # Stopping. Not re-raised: asyncio's stream callback would log a cancelled
            # connection task as an error.
            _reset(cwriter)
        except Exception:  # noqa: BLE001 -- a proxy bug must not hang the client: reset and count it
            self._note("proxy_errors")
            _reset(cwriter)
        finally:
            if up is not None:
                _reset(up[1])
            self._tasks.discard(task)

    async def _one_exchange(self, creader, cwriter, up):
        """Relays one request and its answer. Returns (keep the client connection, upstream)."""
        try:
            head = await asyncio.wait_for(creader.readuntil(b"\r\n\r\n"), self._idle_timeout)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                raise _Closed() from e
            return False, up  # clean close between requests
        except asyncio.LimitOverrunError as e:
            raise _Closed() from e
        method, target, version, headers = _parse_request_head(head)
        self._note("requests")
        fault = self._choose_fault(method, target)
        rec = RequestRecord(time.monotonic(), method, target, fault)
        self._record(rec)  # at arrival; `status` is filled in when the answer goes out
        client_close = _wants_close(version, headers)

        # The proxy answers "100 Continue" itself; the header is never forwarded.
        if _header(headers, "expect").lower() == "100-continue":
            cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await cwriter.drain()
            head = _strip_header(head, b"expect")

        if fault in ("slowdown", "internal_error", "drop_before"):
            await self._relay_body(creader, None, headers)
            self._note(fault)
            if fault == "drop_before":
                self._logline(rec)
                raise _Dropped()
            status, code, message = (
                (503, "SlowDown", "Please reduce your request rate.")
                if fault == "slowdown"
                else (500, "InternalError", "We encountered an internal error. Please try again.")
            )
            cwriter.write(_error_response(status, code, message, head_only=(method == "HEAD"), close=client_close))
            await cwriter.drain()
            rec.status = status
            self._note("answered")
            self._logline(rec)
            return not client_close, up

        # Forward.
        if up is None:
            try:
                up = await asyncio.wait_for(asyncio.open_connection(*self.upstream, limit=_MAX_HEAD), self._upstream_timeout)
            except (OSError, asyncio.TimeoutError):
                # Upstream unreachable: answer 502 so the client sees something definite.
                await self._relay_body(creader, None, headers)
                cwriter.write(_error_response(502, "BadGateway", "fault proxy: upstream unreachable", head_only=(method == "HEAD"), close=True))
                await cwriter.drain()
                rec.status = 502
                self._logline(rec)
                return False, None
        ureader, uwriter = up
        uwriter.write(head)
        await self._relay_body(creader, uwriter, headers)
        await uwriter.drain()
        self._note("forwarded")

        # The answer (skipping any 1xx upstream might still send).
        while True:
            try:
                rhead = await asyncio.wait_for(ureader.readuntil(b"\r\n\r\n"), self._upstream_timeout)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
                raise _Closed() from e
            status, rversion, rheaders = _parse_response_head(rhead)
            if 100 <= status < 200 and status != 101:
                continue
            break
        no_body = method == "HEAD" or 100 <= status < 200 or status in (204, 304)
        eof_framed = not no_body and _body_until_eof(rheaders)
        upstream_close = _wants_close(rversion, rheaders) or eof_framed
        if upstream_close and not eof_framed and not client_close:
            # Werkzeug (moto) closes after every answer; real S3 keeps connections alive. Keep
            # the client's connection open (a fresh upstream one serves its next request), so
            # that clients reuse connections and faults hit reused connections too.
            rhead = _strip_header(rhead, b"connection")
        elif eof_framed or client_close:
            client_close = True

        if fault == "drop_after":
            if not no_body:
                await self._relay_response_body(ureader, None, rheaders)
            self._note(fault)
            self._logline(rec)
            raise _Dropped()
        if fault == "delay":
            self._note(fault)
            await asyncio.sleep(self._delay_seconds())

        cwriter.write(rhead)
        if not no_body:
            await self._relay_response_body(ureader, cwriter, rheaders)
        await cwriter.drain()
        rec.status = status
        self._note("answered")
        self._logline(rec)
        if upstream_close:
            await _close(uwriter)
            up = None
        return not client_close, up

    # ------------------------------------------------------------------ bodies

    async def _read_exact(self, reader: asyncio.StreamReader, n: int, sink: asyncio.StreamWriter | None) -> None:
        while n > 0:
            chunk = await asyncio.wait_for(reader.read(min(n, _IO_CHUNK)), self._idle_timeout)
            if not chunk:
                raise _Closed()
            n -= len(chunk)
            if sink is not None:
                sink.write(chunk)
                await sink.drain()

    async def _read_line(self, reader: asyncio.StreamReader) -> bytes:
        line = await asyncio.wait_for(reader.readuntil(b"\r\n"), self._idle_timeout)
        if len(line) > _MAX_LINE:
            raise _Closed()
        return line

    async def _relay_chunked(self, reader, sink) -> None:
        for _ in range(10_000_000):
            line = await self._read_line(reader)
            if sink is not None:
                sink.write(line)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as e:
                raise _Closed() from e
            if size == 0:
                # Trailers, then the empty line.
                while True:
                    t = await self._read_line(reader)
                    if sink is not None:
                        sink.write(t)
                    if t == b"\r\n":
                        break
                if sink is not None:
                    await sink.drain()
                return
            await self._read_exact(reader, size + 2, sink)
        raise _Closed()

    async def _relay_body(self, reader, sink, headers) -> None:
        """A request body: chunked, Content-Length, or none."""
        if "chunked" in _header(headers, "transfer-encoding").lower():
            await self._relay_chunked(reader, sink)
            return
        n = _content_length(headers)
        if n:
            await self._read_exact(reader, n, sink)

    async def _relay_response_body(self, reader, sink, headers) -> None:
        if "chunked" in _header(headers, "transfer-encoding").lower():
            await self._relay_chunked(reader, sink)
            return
        n = _content_length(headers)
        if n is not None:
            await self._read_exact(reader, n, sink)
            return
        # Delimited by the end of the connection.
        while True:
            chunk = await asyncio.wait_for(reader.read(_IO_CHUNK), self._upstream_timeout)
            if not chunk:
                return
            if sink is not None:
                sink.write(chunk)
                await sink.drain()


# ---------------------------------------------------------------------- HTTP helpers


def _split_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    first = lines[0]
    headers: list[tuple[str, str]] = []
    for ln in lines[1:]:
        if not ln:
            continue
        if ":" not in ln:
            raise _Closed()
        name, value = ln.split(":", 1)
        headers.append((name.strip().lower(), value.strip()))
    return first, headers


def _parse_request_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    first, headers = _split_head(head)
    parts = first.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise _Closed()
    return parts[0].upper(), parts[1], parts[2], headers


def _parse_response_head(head: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    first, headers = _split_head(head)
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise _Closed()
    try:
        return int(parts[1]), parts[0], headers
    except ValueError as e:
        raise _Closed() from e


def _header(headers: list[tuple[str, str]], name: str) -> str:
    for k, v in headers:
        if k == name:
            return v
    return ""


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    v = _header(headers, "content-length")
    if not v:
        return None
    try:
        n = int(v)
    except ValueError as e:
        raise _Closed() from e
    if n < 0:
        raise _Closed()
    return n


def _wants_close(version: str, headers: list[tuple[str, str]]) -> bool:
    conn = _header(headers, "connection").lower()
    if "close" in conn:
        return True
    if version == "HTTP/1.0":
        return "keep-alive" not in conn
    return False


def _body_until_eof(headers: list[tuple[str, str]]) -> bool:
    return "chunked" not in _header(headers, "transfer-encoding").lower() and _content_length(headers) is None


def _strip_header(head: bytes, name: bytes) -> bytes:
    lines = head.split(b"\r\n")
    kept = [ln for ln in lines if not ln.lower().startswith(name + b":")]
    return b"\r\n".join(kept)


def _error_response(status: int, code: str, message: str, *, head_only: bool, close: bool) -> bytes:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>fault-proxy</HostId></Error>"
    ).encode()
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"x-amz-request-id: {request_id}\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n"
        "\r\n"
    ).encode()
    return head if head_only else head + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close abruptly: RST instead of FIN, like a crashed middlebox."""
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        writer.transport.abort()
    except (OSError, RuntimeError):
        pass


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 2)
    except (OSError, asyncio.TimeoutError, ConnectionError):
        pass


# ---------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fault-injecting HTTP/1.1 proxy (loopback only).")
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the server to relay to (loopback)")
    ap.add_argument("--port", type=int, default=0, help="port to listen on, 127.0.0.1 (default: random)")
    ap.add_argument("--seed", default="0")
    for kind in FAULT_KINDS:
        ap.add_argument("--" + kind.replace("_", "-"), type=float, default=getattr(FaultRates.third(), kind))
    ap.add_argument("--delay-min", type=float, default=1.0)
    ap.add_argument("--delay-max", type=float, default=2.0)
    ap.add_argument("--until-stdin-eof", action="store_true", help="also stop when stdin reaches EOF")
    ap.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = ap.parse_args(argv)

    host, _, port = args.upstream.rpartition(":")
    rates = FaultRates(**{k: getattr(args, k) for k in FAULT_KINDS})
    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001
        stop.set()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    def log(line: str) -> None:
        print(f"fault_proxy: {line}", file=sys.stderr, flush=True)

    try:
        proxy = FaultProxy(
            int(port), upstream_host=host or "127.0.0.1", rates=rates, seed=args.seed, delay_range=(args.delay_min, args.delay_max),
            listen_port=args.port, log=None if args.quiet else log,
        ).start()
    except (ValueError, RuntimeError, OSError) as e:
        print(f"fault_proxy: {e}", file=sys.stderr)
        return 2
    try:
        print(json.dumps({"endpoint": proxy.endpoint, "port": proxy.port}), flush=True)
        if args.until_stdin_eof:
            def watch_stdin() -> None:
                try:
                    while sys.stdin.buffer.read1(65536):
                        pass
                except (OSError, ValueError):
                    pass
                stop.set()

            threading.Thread(target=watch_stdin, daemon=True).start()
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        proxy.stop()
        print(json.dumps(proxy.counters()), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
