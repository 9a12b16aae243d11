"""Self-tests of the test infrastructure (Tests/Support): they need no lifeboat binary.

If these fail, the e2e results mean nothing: fix the harness first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from conftest import SUPPORT, TcpTap, agent_env, moto_fixture


def _children(pid: int) -> list[int]:
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def test_signed_moto_rejects_wrong_secret_and_unknown_key(moto_signed):
    c = moto_signed.client()
    c.put_object(Bucket=moto_signed.bucket, Key="harness/plain.txt", Body=b"ok")
    assert c.get_object(Bucket=moto_signed.bucket, Key="harness/plain.txt")["Body"].read() == b"ok"
    with pytest.raises(ClientError) as e:
        moto_signed.client(secret_access_key="definitely-wrong").get_object(
            Bucket=moto_signed.bucket, Key="harness/plain.txt"
        )
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as e:
        moto_signed.client(access_key_id="AKIAIOSFODNN7NOTREAL").put_object(
            Bucket=moto_signed.bucket, Key="harness/x.txt", Body=b"x"
        )
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    c.delete_object(Bucket=moto_signed.bucket, Key="harness/plain.txt")


def test_signed_moto_multipart_with_fixture_key(moto_signed, signed_bucket):
    c = moto_signed.client()
    part = b"p" * (5 * 1024 * 1024)
    mp = c.create_multipart_upload(Bucket=signed_bucket, Key="harness/mp.bin")
    etags = []
    for n, body in enumerate((part, b"tail"), 1):
        r = c.upload_part(Bucket=signed_bucket, Key="harness/mp.bin", UploadId=mp["UploadId"], PartNumber=n, Body=body)
        etags.append({"PartNumber": n, "ETag": r["ETag"]})
    c.complete_multipart_upload(
        Bucket=signed_bucket, Key="harness/mp.bin", UploadId=mp["UploadId"], MultipartUpload={"Parts": etags}
    )
    assert c.head_object(Bucket=signed_bucket, Key="harness/mp.bin")["ETag"].strip('"').endswith("-2")


def test_unsigned_moto_keeps_odd_keys(moto_unsigned, unsigned_bucket):
    c = moto_unsigned.client(access_key_id="anything", secret_access_key="anything")
    keys = ["p/vidéo 日本.mp4", "p/a b (1).txt", "p/c+d.txt", "p/100%.txt", "p/#h.txt"]
    for k in keys:
        c.put_object(Bucket=unsigned_bucket, Key=k, Body=k.encode())
    from s3_inspect import inspect_bucket

    got = {o["key"]: o for o in inspect_bucket(c, unsigned_bucket, "p/")}
    assert sorted(got) == sorted(keys)


def test_s3_inspect_cli_reports_objects(moto_unsigned, unsigned_bucket):
    c = moto_unsigned.client()
    c.put_object(
        Bucket=unsigned_bucket, Key="a/x.txt", Body=b"hello", Metadata={"Sha256": "abc"}, ContentType="text/plain"
    )
    c.put_object(Bucket=unsigned_bucket, Key="b/y.txt", Body=b"other")
    env = agent_env({"AWS_CA_BUNDLE": "/nonexistent/ca.pem", "AWS_PROFILE": "nope"})  # must be ignored
    r = subprocess.run(
        [sys.executable, str(SUPPORT / "s3_inspect.py"), "--endpoint", moto_unsigned.endpoint,
         "--bucket", unsigned_bucket, "--access-key-id", "k", "--secret-access-key", "s", "--prefix", "a/"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert r.returncode == 0, r.stderr
    objs = json.loads(r.stdout)
    assert [o["key"] for o in objs] == ["a/x.txt"]
    o = objs[0]
    assert o["size"] == 5
    assert o["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert o["metadata"] == {"sha256": "abc"}
    assert o["content_type"] == "text/plain"


def test_s3_inspect_cli_fails_with_wrong_secret_without_echoing_it(moto_signed):
    r = subprocess.run(
        [sys.executable, str(SUPPORT / "s3_inspect.py"), "--endpoint", moto_signed.endpoint,
         "--bucket", moto_signed.bucket, "--access-key-id", moto_signed.access_key_id,
         "--secret-access-key", "WRONG-SECRET-VALUE"],
        capture_output=True, text=True, timeout=60, env=agent_env(),
    )
    assert r.returncode == 1
    assert "SignatureDoesNotMatch" in r.stderr
    assert "WRONG-SECRET-VALUE" not in r.stdout + r.stderr


@pytest.mark.parametrize("mode", ["--signed", "--unsigned"])
@pytest.mark.parametrize("how", ["eof", "sigterm", "sigint", "sigkill"])
def test_moto_fixture_cli_lifecycle_leaves_no_process(mode, how):
    p = subprocess.Popen(
        [sys.executable, str(SUPPORT / "moto_fixture.py"), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=agent_env(),
    )
    try:
        line = p.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"endpoint", "access_key_id", "secret_access_key", "bucket", "region"}
        assert info["endpoint"].startswith("http://127.0.0.1:")
        assert info["region"] == "us-east-1"
        kids = _children(p.pid)
        assert len(kids) == 1, kids
        moto_pid = kids[0]
        client = moto_fixture.s3_client(info["endpoint"], info["access_key_id"], info["secret_access_key"])
        client.head_bucket(Bucket=info["bucket"])
        if mode == "--signed":
            bad = moto_fixture.s3_client(info["endpoint"], info["access_key_id"], "wrong")
            with pytest.raises(ClientError):
                bad.head_bucket(Bucket=info["bucket"])
        if how == "eof":
            p.stdin.close()
        elif how == "sigterm":
            p.send_signal(signal.SIGTERM)
        elif how == "sigint":
            p.send_signal(signal.SIGINT)
        else:
            p.kill()
        rc = p.wait(timeout=20)
        assert rc == (-9 if how == "sigkill" else 0), p.stderr.read()
        assert _wait_gone(moto_pid), f"moto pid {moto_pid} still alive after {how}"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


def test_moto_fixture_start_stop_in_process():
    s = moto_fixture.start(signed=True)
    pid = s.pid
    try:
        assert s.alive()
        assert s.endpoint == f"http://127.0.0.1:{s.port}"
        s.client().head_bucket(Bucket=s.bucket)
    finally:
        s.stop()
    assert _wait_gone(pid)
    s.stop()  # idempotent


def test_tcp_tap_relays_and_records(moto_signed, signed_bucket):
    tap = TcpTap(moto_signed.port)
    try:
        c = moto_fixture.s3_client(tap.endpoint, moto_signed.access_key_id, moto_signed.secret_access_key)
        c.put_object(Bucket=signed_bucket, Key="tap.txt", Body=b"through the tap", Metadata={"mark": "m1"})
        assert moto_signed.client().get_object(Bucket=signed_bucket, Key="tap.txt")["Body"].read() == b"through the tap"
        sent = tap.client_bytes.lower()
        assert b"x-amz-meta-mark: m1" in sent
        assert b"through the tap" in sent
    finally:
        tap.close()
