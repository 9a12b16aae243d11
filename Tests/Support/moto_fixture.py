#!/usr/bin/env python3
"""Start a local moto S3 server for Lifeboat's tests.

Two modes:

* signed   -- moto checks SigV4 signatures and IAM permissions. The first few
              requests are let through unauthenticated (INITIAL_NO_AUTH_ACTION_COUNT)
              so that this module can create an IAM user, a policy allowing s3:*,
              an access key and a bucket; every request after that must be signed
              with that key. A wrong secret gets SignatureDoesNotMatch (403).
              Known moto limitation: it rejects *correctly* signed requests whose
              key holds non-ASCII characters or parentheses, and query values
              holding "/" (ListObjectsV2 prefix=a/ or start-after). Use plain keys
              and list without a prefix against this mode.
* unsigned -- moto accepts any credentials; use it for odd key names and listing.

Library use::

    from moto_fixture import start
    server = start(signed=True)
    try:
        s3 = server.client()
        ...
    finally:
        server.stop()

CLI use (for the Swift test suite)::

    python3 Tests/Support/moto_fixture.py --signed|--unsigned

prints one JSON line {"endpoint", "access_key_id", "secret_access_key", "bucket",
"region"} on stdout, then blocks until stdin reaches EOF (or SIGTERM/SIGINT/SIGHUP),
then stops moto and exits. The moto process is also bound to this process's
life with PR_SET_PDEATHSIG, so a SIGKILLed parent does not leave it behind.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

REGION = "us-east-1"

# Setup actions performed without authentication in signed mode:
# CreateUser, CreatePolicy, AttachUserPolicy, CreateAccessKey, CreateBucket.
# moto counts only real service actions (not /moto-api/ probes), so after these
# five every request must carry a valid signature.
SIGNED_SETUP_ACTIONS = 5

_STARTUP_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0

# Environment variables that must not leak from the developer's/CI's shell
# into moto or into boto3 (CA bundles, profiles, endpoints, our own config).
_SCRUB_PREFIXES = ("AWS_", "LIFEBOAT_", "BOTO_", "MOTO_", "TEST_SERVER_MODE")


def scrubbed_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ without AWS_*, LIFEBOAT_*, BOTO_*, MOTO_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    if extra:
        env.update(extra)
    return env


def scrub_own_environment() -> None:
    """Remove AWS_* etc. from this process so boto3 is not steered by the shell
    (AWS_CA_BUNDLE, AWS_PROFILE, AWS_ENDPOINT_URL, ...), and keep it from reading
    ~/.aws files."""
    for k in list(os.environ):
        if k.startswith(_SCRUB_PREFIXES):
            del os.environ[k]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent_preexec(parent_pid: int):
    """preexec_fn: ask the kernel to SIGTERM the child when this process dies."""

    def fn() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except Exception:
            pass
        # The parent may have died between fork and prctl.
        if os.getppid() != parent_pid:
            os._exit(1)

    return fn


def _boto3_config(**overrides: Any):
    from botocore.config import Config

    kw: dict[str, Any] = dict(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    kw.update(overrides)
    return Config(**kw)


def s3_client(endpoint: str, access_key_id: str, secret_access_key: str, region: str = REGION):
    """A boto3 S3 client: path-style, explicit credentials, no ambient config."""
    import boto3

    scrub_own_environment()
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    return session.client("s3", endpoint_url=endpoint, config=_boto3_config())


def _new_bucket_name(tag: str = "lb") -> str:
    return f"{tag}-{uuid.uuid4().hex[:20]}"


class MotoServer:
    """A running moto_server subprocess plus the credentials and bucket made for it."""

    def __init__(self, proc: subprocess.Popen, port: int, signed: bool, log: Any):
        self._proc = proc
        self.port = port
        self.signed = signed
        self.endpoint = f"http://127.0.0.1:{port}"
        self.region = REGION
        self.access_key_id = "testing"
        self.secret_access_key = "testing"
        self.bucket = ""
        self._log = log

    # -- public API ---------------------------------------------------------

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def client(self, access_key_id: str | None = None, secret_access_key: str | None = None):
        """boto3 S3 client for this server (the fixture's credentials unless overridden)."""
        return s3_client(
            self.endpoint,
            access_key_id if access_key_id is not None else self.access_key_id,
            secret_access_key if secret_access_key is not None else self.secret_access_key,
            self.region,
        )

    def create_bucket(self, name: str | None = None, versioned: bool = False) -> str:
        """Create another bucket (signed with the fixture's key in signed mode)."""
        name = name or _new_bucket_name()
        c = self.client()
        c.create_bucket(Bucket=name)
        if versioned:
            c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def info(self) -> dict[str, str]:
        return {
            "endpoint": self.endpoint,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "bucket": self.bucket,
            "region": self.region,
        }

    def log_tail(self, n: int = 4000) -> str:
        try:
            fd = self._log.fileno()
            size = os.fstat(fd).st_size
            return os.pread(fd, n, max(0, size - n)).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def stop(self) -> None:
        """Terminate moto (SIGTERM, then SIGKILL) and reap it. Idempotent."""
        p = self._proc
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=_STOP_TIMEOUT_S)
            except ProcessLookupError:
                pass
        else:
            p.wait()
        try:
            self._log.close()
        except OSError:
            pass

    def __enter__(self) -> "MotoServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- setup ----------------------------------------------------------------

    def _wait_ready(self, deadline: float) -> bool:
        # /moto-api/ requests are not counted against INITIAL_NO_AUTH_ACTION_COUNT.
        url = self.endpoint + "/moto-api/data.json"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            try:
                with opener.open(url, timeout=2) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, OSError, ConnectionError):
                pass
            time.sleep(0.1)
        return False

    def _setup_unsigned(self) -> None:
        self.bucket = _new_bucket_name()
        self.client().create_bucket(Bucket=self.bucket)

    def _setup_signed(self) -> None:
        import boto3
        from botocore.exceptions import ClientError

        scrub_own_environment()
        boot = boto3.session.Session(
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", region_name=self.region
        )
        iam = boot.client("iam", endpoint_url=self.endpoint, config=_boto3_config(retries={"max_attempts": 1}))
        s3_boot = boot.client("s3", endpoint_url=self.endpoint, config=_boto3_config(retries={"max_attempts": 1}))
        user = "lifeboat-test"
        # 1..5: the unauthenticated allowance, exactly.
        iam.create_user(UserName=user)
        policy = iam.create_policy(
            PolicyName="lifeboat-test-s3-all",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
        iam.attach_user_policy(UserName=user, PolicyArn=policy["Policy"]["Arn"])
        key = iam.create_access_key(UserName=user)["AccessKey"]
        self.access_key_id = key["AccessKeyId"]
        self.secret_access_key = key["SecretAccessKey"]
        self.bucket = _new_bucket_name()
        s3_boot.create_bucket(Bucket=self.bucket)

        # Self-check: the allowance is used up, so a wrong secret is refused and
        # the right one works. Fail loudly rather than hand out a server that
        # silently accepts anything.
        bad = self.client(secret_access_key="not-the-secret-" + uuid.uuid4().hex)
        try:
            bad.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status != 403:
                raise RuntimeError(f"signed moto: wrong secret gave HTTP {status}, expected 403") from e
        else:
            raise RuntimeError("signed moto: a request with a wrong secret was accepted")
        self.client().head_bucket(Bucket=self.bucket)


def start(signed: bool, attempts: int = 3) -> MotoServer:
    """Start moto_server on a free loopback port and prepare credentials and a bucket."""
    last_err: Exception | None = None
    for _ in range(attempts):
        port = _free_port()
        extra: dict[str, str] = {}
        if signed:
            extra["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SIGNED_SETUP_ACTIONS)
        env = scrubbed_env(extra)
        # An already-unlinked file: nothing is left on disk even if we are SIGKILLed.
        log = tempfile.TemporaryFile(prefix="moto-", suffix=".log")
        cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        try:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent_preexec(os.getpid()),
                close_fds=True,
            )
        except BaseException:
            log.close()
            raise
        server = MotoServer(proc, port, signed, log)
        try:
            if not server._wait_ready(time.monotonic() + _STARTUP_TIMEOUT_S):
                raise RuntimeError(f"moto_server did not answer on port {port}:\n{server.log_tail()}")
            if signed:
                server._setup_signed()
            else:
                server._setup_unsigned()
            return server
        except BaseException as e:  # includes KeyboardInterrupt: never leave moto behind
            server.stop()
            last_err = e
            if not isinstance(e, Exception):
                raise
    raise RuntimeError(f"could not start moto_server after {attempts} attempts: {last_err}") from last_err


# ---------------------------------------------------------------------------- CLI


class _Stop(BaseException):
    """Raised by the signal handler; a BaseException so start() does not retry on it."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--signed", action="store_true", help="check SigV4 signatures and IAM")
    mode.add_argument("--unsigned", action="store_true", help="accept any credentials")
    args = ap.parse_args(argv)

    def on_signal(signum, frame):  # noqa: ARG001
        raise _Stop()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    # A reader that went away must not kill us before moto is stopped.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    server: MotoServer | None = None
    try:
        server = start(signed=args.signed)
        try:
            sys.stdout.write(json.dumps(server.info()) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            return 1
        # Block until the parent closes our stdin (or dies, which closes it).
        while True:
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                break
        return 0
    except _Stop:
        return 0
    except Exception as e:
        print(f"moto_fixture: {e}", file=sys.stderr)
        return 1
    finally:
        # Signals during cleanup must not interrupt it.
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
