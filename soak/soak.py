#!/usr/bin/env python3
"""Soak test: the daemon under continuous writes of mixed sizes, through a fault-injecting proxy,
killed with SIGKILL and restarted at random moments. At the end the remote must match the trees
exactly and the journal must be clean. Bounded in time; loopback only; stops by itself.

    python3 soak/soak.py --minutes 3 [--seed 7] [--binary .build/debug/lifeboat]

Prints what it did and what it found; exits 0 only when nothing was lost.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "Support"))

import moto_fixture  # noqa: E402
from fault_proxy import FaultProxy, FaultRates  # noqa: E402


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Agent:
    def __init__(self, binary: Path, config: Path, log: Path):
        self.binary, self.config, self.log = binary, config, log
        self.process: subprocess.Popen | None = None
        self.env = moto_fixture.scrubbed_env()

    def start(self) -> None:
        handle = open(self.log, "ab")
        self.process = subprocess.Popen([str(self.binary), "run", "--config", str(self.config)],
                                        stdout=handle, stderr=handle, env=self.env)

    def kill9(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
                return None
        return self.process.returncode if self.process else None

    def status(self) -> dict:
        out = subprocess.run([str(self.binary), "status", "--json", "--config", str(self.config)],
                             capture_output=True, text=True, env=self.env, timeout=60)
        return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else {}


def write_file(root: Path, rng: random.Random, index: int) -> Path:
    folder = root / f"batch-{index // 25:03d}" / rng.choice(["renders", "voice", "avatars/hd"])
    folder.mkdir(parents=True, exist_ok=True)
    size = rng.choice([0, 100, 4_000, 60_000, 700_000, 3_000_000, 7_000_000])
    target = folder / f"file-{index:05d}.bin"
    style = rng.random()
    if style < 0.5:  # plain write
        with open(target, "wb") as handle:
            handle.write(rng.randbytes(size))
    elif style < 0.8:  # temp name, then rename into place
        temporary = folder / f".{target.name}.part"
        with open(temporary, "wb") as handle:
            handle.write(rng.randbytes(size))
        os.rename(temporary, target)
    else:  # overwrite of an earlier file
        earlier = sorted(root.rglob("*.bin"))
        target = rng.choice(earlier) if earlier else target
        with open(target, "wb") as handle:
            handle.write(rng.randbytes(size))
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--binary", type=Path, default=ROOT / ".build" / "debug" / "lifeboat")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="lifeboat-soak-"))
    watched = scratch / "output"
    watched.mkdir()
    moto = moto_fixture.start(signed=True)
    proxy = FaultProxy(int(moto.endpoint.rsplit(":", 1)[1]), rates=FaultRates.third(), seed=args.seed).start()
    config = scratch / "agent.conf"
    config.write_text("\n".join([
        f"LIFEBOAT_WATCH=output={watched}",
        f"LIFEBOAT_REMOTE=s3://{moto.bucket}/soak",
        f"LIFEBOAT_S3_ENDPOINT={proxy.endpoint}",
        f"AWS_ACCESS_KEY_ID={moto.access_key_id}",
        f"AWS_SECRET_ACCESS_KEY={moto.secret_access_key}",
        f"LIFEBOAT_JOURNAL={scratch / 'journal.db'}",
        "LIFEBOAT_SETTLE=200ms",
        "LIFEBOAT_MULTIPART_THRESHOLD=5MiB",
        "LIFEBOAT_PART_SIZE=5MiB",
        "LIFEBOAT_LISTEN=",
        "",
    ]))
    agent = Agent(args.binary, config, scratch / "agent.log")
    written = kills = 0
    deadline = time.monotonic() + args.minutes * 60
    try:
        agent.start()
        next_kill = time.monotonic() + rng.uniform(5, 20)
        while time.monotonic() < deadline:
            write_file(watched, rng, written)
            written += 1
            time.sleep(rng.uniform(0.0, 0.15))
            if time.monotonic() >= next_kill:
                agent.kill9()
                kills += 1
                for _ in range(rng.randint(0, 10)):  # written while the agent is down
                    write_file(watched, rng, written)
                    written += 1
                agent.start()
                next_kill = time.monotonic() + rng.uniform(5, 20)
        # Let the agent catch up with faults still on, then check.
        drain_deadline = time.monotonic() + 300
        status: dict = {}
        while time.monotonic() < drain_deadline:
            status = agent.status()
            if status and status.get("pending") == 0 and status.get("failed") == 0:
                break
            time.sleep(1)
        exit_code = agent.stop()
        faults = proxy.faults()
        proxy.stop()
        client = moto.client()
        remote: dict[str, str] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=moto.bucket):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=moto.bucket, Key=item["Key"])["Body"].read()
                remote[item["Key"]] = hashlib.sha256(body).hexdigest()
        local = {f"soak/output/{p.relative_to(watched)}": sha256(p) for p in watched.rglob("*") if p.is_file() and not p.name.endswith(".part")}
        missing = sorted(set(local) - set(remote))
        wrong = sorted(k for k in local if k in remote and remote[k] != local[k])
        extra = sorted(set(remote) - set(local))
        uploads = client.list_multipart_uploads(Bucket=moto.bucket).get("Uploads", [])
        print(f"soak: {args.minutes} min, seed {args.seed}: {written} writes ({len(local)} files), {kills} kill -9 and restarts")
        print(f"soak: faults injected {faults}")
        print(f"soak: final status {status}; SIGTERM exit {exit_code}")
        print(f"soak: remote {len(remote)} objects; missing {len(missing)}, wrong content {len(wrong)}, unexpected {len(extra)}, open multipart uploads {len(uploads)}")
        for key in (missing + wrong + extra)[:20]:
            print(f"soak:   {key}")
        ok = not missing and not wrong and not extra and status.get("pending") == 0 and status.get("failed") == 0 and exit_code == 0
        print("soak: PASS, nothing lost" if ok else f"soak: FAIL (log: {agent.log})")
        return 0 if ok else 1
    finally:
        agent.kill9()
        try:
            proxy.stop()
        except Exception:
            pass
        moto.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
