"""Self-tests of Tests/Support/fault_proxy.py (no lifeboat binary needed): if these fail, the
fault tests of the daemon mean nothing."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import SUPPORT, agent_env, fault_proxy, wait_for

FaultRates = fault_proxy.FaultRates


def _conn(proxy) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)


def _put(conn, path: str, body: bytes) -> http.client.HTTPResponse:
    conn.request("PUT", path, body=body, headers={"Content-Length": str(len(body))})
    r = conn.getresponse()
    r.read()
    return r


def _exists(server, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        server.client().head_object(Bucket=bucket, Key=key)
        return True
    except ClientError:
        return False


def test_relays_boto3_traffic_unchanged_with_keep_alive(moto_signed, make_fault_proxy):
    proxy = make_fault_proxy(moto_signed)
    from moto_fixture import s3_client

    c = s3_client(proxy.endpoint, moto_signed.access_key_id, moto_signed.secret_access_key)
    bucket = moto_signed.create_bucket()
    for i in range(5):
        c.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * (i * 1000))
        assert c.head_object(Bucket=bucket, Key=f"k{i}")["ContentLength"] == i * 1000  # HEAD: length, no body
        assert c.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read() == b"x" * (i * 1000)
    assert len(c.list_objects_v2(Bucket=bucket)["Contents"]) == 5  # signed requests survive the relay
    # The proxy counts an answer once it is written, which may be just after boto3 has read it.
    n = wait_for(lambda: (lambda c: c if c["answered"] == c["requests"] else None)(proxy.counters()), 5, interval=0.01, what="counters")
    # 16 calls; boto3 may retry one on its own when the shared moto is slow.
    assert n["requests"] == n["forwarded"] == n["answered"] >= 16, n
    assert n["connections"] <= n["requests"] // 3, f"connections are not kept alive: {n}"
    assert sum(proxy.faults().values()) == 0


def test_each_fault_kind_does_what_it_says(moto_unsigned, make_fault_proxy):
    server, bucket = moto_unsigned, moto_unsigned.create_bucket()

    # Answered by the proxy, not forwarded; the connection stays usable (body consumed).
    for kind, status, code in (("slowdown", 503, "SlowDown"), ("internal_error", 500, "InternalError")):
        proxy = make_fault_proxy(server, FaultRates(**{kind: 1.0}))
        conn = _conn(proxy)
        r = _put(conn, f"/{bucket}/{kind}", b"payload")
        assert r.status == status
        conn.request("HEAD", f"/{bucket}/{kind}")
        h = conn.getresponse()
        assert h.status == status and h.read() == b"", "a HEAD answer must have no body"
        conn.request("GET", f"/{bucket}/{kind}")
        g = conn.getresponse()
        assert f"<Code>{code}</Code>".encode() in g.read()
        conn.close()
        assert not _exists(server, bucket, kind), f"{kind}: the request reached the server"
        assert proxy.faults()[kind] == 3 and proxy.counters()["forwarded"] == 0

    # Reset before forwarding: the server never sees it.
    proxy = make_fault_proxy(server, FaultRates(drop_before=1.0))
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _put(_conn(proxy), f"/{bucket}/before", b"payload")
    assert not _exists(server, bucket, "before")
    assert proxy.faults()["drop_before"] == 1

    # Reset after the server applied it.
    proxy = make_fault_proxy(server, FaultRates(drop_after=1.0))
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _put(_conn(proxy), f"/{bucket}/after", b"payload")
    assert _exists(server, bucket, "after")
    assert proxy.faults()["drop_after"] == 1

    # Slow answer.
    proxy = make_fault_proxy(server, FaultRates(delay=1.0), delay_range=(0.5, 0.6))
    t0 = time.monotonic()
    assert _put(_conn(proxy), f"/{bucket}/slow", b"payload").status == 200
    assert time.monotonic() - t0 >= 0.5
    assert proxy.faults()["delay"] == 1


def test_rates_are_roughly_honoured_and_seeded(moto_unsigned, make_fault_proxy):
    bucket = moto_unsigned.create_bucket()
    seen = []
    for round_ in range(2):
        proxy = make_fault_proxy(moto_unsigned, FaultRates(slowdown=0.2, internal_error=0.15), seed=5)
        conn = _conn(proxy)
        # New keys each round: moto refuses an anonymous overwrite.
        statuses = [_put(conn, f"/{bucket}/r{round_}-{i}", b"x").status for i in range(40)]
        seen.append(statuses)
        faults = proxy.faults()
        assert 2 <= faults["slowdown"] <= 18 and 1 <= faults["internal_error"] <= 15, faults
    assert seen[0] == seen[1], "the same seed gave different faults on one sequential connection"


def test_standalone_cli_prints_endpoint_relays_and_stops_on_sigterm(moto_unsigned):
    cmd = [sys.executable, str(SUPPORT / "fault_proxy.py"), "--upstream", f"127.0.0.1:{moto_unsigned.port}", "--seed", "3", "--quiet"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=agent_env())
    try:
        info = json.loads(p.stdout.readline())
        assert info["endpoint"] == f"http://127.0.0.1:{info['port']}"
        conn = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=10)
        conn.request("GET", "/moto-api/data.json")  # never faulted
        assert conn.getresponse().status == 200
        conn.close()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=15)
        assert p.returncode == 0, err
        counters = json.loads(err.decode().strip().splitlines()[-1])
        assert counters["requests"] == 1 and counters["forwarded"] == 1, counters
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


def test_refuses_a_non_loopback_upstream():
    with pytest.raises(ValueError):
        fault_proxy.FaultProxy(80, upstream_host="8.8.8.8")
