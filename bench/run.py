#!/usr/bin/env python3
"""Lifeboat side by side with the tools users would otherwise pick, on the same data, the same
local S3 server (moto) and the same machine, in one run. Reports medians and ratios of wall
time, CPU seconds (user+system) and peak RSS, and writes docs/benchmarks.md and a chart.

    python3 bench/run.py [--runs 3] [--quick]

--quick shrinks every data set (for checking the script, not for numbers). Installs rclone,
inotify-tools (apt), s3cmd and matplotlib (pip) when missing. Loopback only; bounded.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "Support"))
import moto_fixture  # noqa: E402

RESULTS: list[dict] = []


def ensure_tools() -> None:
    apt = [pkg for tool, pkg in [("rclone", "rclone"), ("inotifywait", "inotify-tools")] if not shutil.which(tool)]
    if apt:
        subprocess.run(["apt-get", "install", "-y", "-qq", *apt], check=True, stdout=subprocess.DEVNULL)
    if not shutil.which("s3cmd"):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "s3cmd"], check=True)
    if subprocess.run([sys.executable, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"], check=True)


def measure(command: list[str], env: dict[str, str], cwd: Path | None = None) -> dict:
    """Wall, CPU and peak RSS of one command through GNU time."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.monotonic()
        done = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %S %M", *command],
                              env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=3600)
        wall = time.monotonic() - started
        user, system, rss = report.read().split()[-3:]
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"wall": wall, "cpu": float(user) + float(system), "user": float(user), "rss_mib": int(rss) / 1024}


def median_of(samples: list[dict]) -> dict:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def record(scenario: str, tool: str, values: dict) -> None:
    RESULTS.append({"scenario": scenario, "tool": tool, **values})
    shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
    print(f"  {scenario:<38} {tool:<22} {shown}", flush=True)


def make_dataset(folder: Path, small: int, large: int, large_mib: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(small):
        sub = folder / f"d{index % 20}"
        sub.mkdir(exist_ok=True)
        (sub / f"small-{index}.bin").write_bytes(os.urandom(1024 + index * 37 % 60000))
    for index in range(large):
        with open(folder / f"large-{index}.mp4", "wb") as handle:
            for _ in range(large_mib):
                handle.write(os.urandom(1 << 20))


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="lifeboat-bench-"))
        self.lifeboat = ROOT / ".build" / "release" / "lifeboat"
        self.moto = moto_fixture.start(signed=False)
        self.env = moto_fixture.scrubbed_env({
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": self.moto.endpoint, "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": "testing",
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": "testing", "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        })
        self.bucket = self.moto.bucket
        self.counter = 0

    def conf(self, watch: Path, remote: str, **extra: str) -> Path:
        self.counter += 1
        path = self.work / f"conf-{self.counter}"
        lines = {"LIFEBOAT_WATCH": f"data={watch}", "LIFEBOAT_REMOTE": remote, "LIFEBOAT_JOURNAL": str(self.work / f"journal-{self.counter}.db"),
                 "LIFEBOAT_LISTEN": "", "LIFEBOAT_S3_ENDPOINT": self.moto.endpoint, **extra}
        path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        return path

    def s3cmd_args(self) -> list[str]:
        host = self.moto.endpoint.removeprefix("http://")
        return ["s3cmd", "--no-ssl", f"--host={host}", f"--host-bucket={host}", "--access_key=testing", "--secret_key=testing", "--no-check-md5"]

    def prefix(self, name: str) -> str:
        self.counter += 1
        return f"{name}-{self.counter}"

    # --- scenarios ---

    def initial_mirror(self, data: Path) -> None:
        scenario = "initial mirror (small files + 2 large)"
        tools = {
            "lifeboat resync": lambda p: [str(self.lifeboat), "resync", "--config", str(self.conf(data, f"s3://{self.bucket}/{p}"))],
            "rclone copy": lambda p: ["rclone", "copy", str(data), f"bench:{self.bucket}/{p}"],
            "aws s3 sync": lambda p: ["aws", "--endpoint-url", self.moto.endpoint, "s3", "sync", str(data), f"s3://{self.bucket}/{p}", "--only-show-errors"],
            "s3cmd sync": lambda p: [*self.s3cmd_args(), "sync", "--quiet", f"{data}/", f"s3://{self.bucket}/{p}/"],
        }
        for tool, command in tools.items():
            record(scenario, tool, median_of([measure(command(self.prefix("initial")), self.env) for _ in range(self.args.runs)]))

    def noop_resync(self, many: Path) -> None:
        scenario = f"no-op resync ({self.many_count} unchanged files)"
        lifeboat_conf = self.conf(many, f"s3://{self.bucket}/noop")
        measure([str(self.lifeboat), "resync", "--config", str(lifeboat_conf)], self.env)
        local_copy = self.work / "rclone-local"
        measure(["rclone", "sync", str(many), str(local_copy)], self.env)
        measure(["rclone", "sync", str(many), f"bench:{self.bucket}/noop-rclone"], self.env)
        tools = {
            "lifeboat resync": [str(self.lifeboat), "resync", "--config", str(lifeboat_conf)],
            "rclone sync (local)": ["rclone", "sync", str(many), str(local_copy)],
            "rclone sync (S3)": ["rclone", "sync", str(many), f"bench:{self.bucket}/noop-rclone"],
            "find -printf (floor)": ["find", str(many), "-printf", "%s %T@ %C@ %i\n"],
        }
        for tool, command in tools.items():
            record(scenario, tool, median_of([measure(command, self.env) for _ in range(self.args.runs)]))

    def hashing(self, big: Path) -> None:
        scenario = f"hash+mirror {self.big_gib} GiB (user CPU)"
        remote = self.work / "big-remote"
        remote.mkdir()
        samples = []
        for _ in range(self.args.runs):
            conf = self.conf(big.parent, f"file://{remote}")
            samples.append(measure([str(self.lifeboat), "resync", "--config", str(conf)], self.env))
            shutil.rmtree(remote); remote.mkdir()
        record(scenario, "lifeboat resync", median_of(samples))
        record(scenario, "openssl dgst -sha256", median_of([measure(["openssl", "dgst", "-sha256", str(big)], self.env) for _ in range(self.args.runs)]))
        conf = self.conf(big.parent, f"s3://{self.bucket}/big", LIFEBOAT_MULTIPART_THRESHOLD="64MiB")
        record(f"upload {self.big_gib} GiB to S3 (peak RSS)", "lifeboat resync", measure([str(self.lifeboat), "resync", "--config", str(conf)], self.env))

    def restore(self, data: Path) -> None:
        scenario = "restore (small files + 2 large)"
        conf_source = self.conf(data, f"s3://{self.bucket}/restore-src")
        measure([str(self.lifeboat), "resync", "--config", str(conf_source)], self.env)
        samples_lifeboat, samples_rclone = [], []
        for _ in range(self.args.runs):
            target = self.work / self.prefix("restored")
            conf = self.conf(target, f"s3://{self.bucket}/restore-src")
            samples_lifeboat.append(measure([str(self.lifeboat), "restore", "--config", str(conf)], self.env))
            samples_rclone.append(measure(["rclone", "copy", f"bench:{self.bucket}/restore-src/data", str(self.work / self.prefix("rclone-restored"))], self.env))
        record(scenario, "lifeboat restore", median_of(samples_lifeboat))
        record(scenario, "rclone copy", median_of(samples_rclone))

    def wait_readable(self, client, key: str, deadline: float) -> float | None:
        while time.monotonic() < deadline:
            try:
                client.head_object(Bucket=self.bucket, Key=key)
                return time.monotonic()
            except Exception:
                time.sleep(0.005)
        return None

    def start_watchers(self, tool: str, folder: Path, prefix: str) -> subprocess.Popen:
        if tool == "lifeboat run":
            conf = self.conf(folder, f"s3://{self.bucket}/{prefix}", LIFEBOAT_SETTLE="100ms")
            process = subprocess.Popen([str(self.lifeboat), "run", "--config", str(conf)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            # The loop everyone writes: every closed file is copied as it is reported.
            script = (f'inotifywait -m -r -q -e close_write -e moved_to --format "%w%f" "{folder}" | '
                      f'while read -r f; do aws --endpoint-url {self.moto.endpoint} s3 cp --only-show-errors "$f" '
                      f'"s3://{self.bucket}/{prefix}/data/${{f#{folder}/}}"; done')
            process = subprocess.Popen(["bash", "-c", script], env=self.env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        return process

    def stop_watcher(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGTERM) if process.args[0] == "bash" else process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        except Exception:
            process.kill()

    def latency_and_burst(self) -> None:
        client = self.moto.client()
        for tool in ["lifeboat run", "inotifywait | aws s3 cp"]:
            folder = self.work / self.prefix("live")
            folder.mkdir()
            prefix = self.prefix("live")
            watcher = self.start_watchers(tool, folder, prefix)
            try:
                latencies = []
                for index in range(self.latency_files):
                    path = folder / f"clip-{index}.bin"
                    path.write_bytes(os.urandom(200_000))
                    closed = time.monotonic()
                    seen = self.wait_readable(client, f"{prefix}/data/{path.name}", closed + 30)
                    latencies.append((seen - closed) if seen else float("inf"))
                    time.sleep(0.2)
                finite = sorted(latencies)
                record("close-to-readable latency (s)", tool, {
                    "p50": statistics.median(finite), "p95": finite[int(0.95 * (len(finite) - 1))], "max": finite[-1]})
                started = time.monotonic()
                expected = set()
                for index in range(self.burst_files):
                    sub = folder / f"burst-{index % 50}"
                    sub.mkdir(exist_ok=True)
                    (sub / f"f{index}.bin").write_bytes(os.urandom(2_000))
                    expected.add(f"{prefix}/data/burst-{index % 50}/f{index}.bin")
                deadline = started + 60
                landed: set[str] = set()
                while time.monotonic() < deadline and landed != expected:
                    time.sleep(1)
                    landed = {o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
                              for o in page.get("Contents", []) if o["Key"] in expected}
                record(f"burst: {self.burst_files} files in 50 new folders", tool, {
                    "landed_within_60s": len(landed), "missed": len(expected) - len(landed), "seconds": time.monotonic() - started})
            finally:
                self.stop_watcher(watcher)

    def idle_daemon(self) -> None:
        folder = self.work / "hundred-k"
        for index in range(self.idle_files):
            sub = folder / f"d{index // 1000}"
            if index % 1000 == 0:
                sub.mkdir(parents=True)
            (sub / f"f{index}").write_bytes(b"x")
        remote = self.work / "hundred-k-remote"
        remote.mkdir()
        conf = self.conf(folder, f"file://{remote}")
        measure([str(self.lifeboat), "resync", "--config", str(conf)], self.env)
        process = subprocess.Popen([str(self.lifeboat), "run", "--config", str(conf)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(15)  # start-up reconcile of every file
            def cpu_ticks() -> int:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                return int(fields[11]) + int(fields[12])
            before = cpu_ticks()
            time.sleep(20)
            idle_cpu = (cpu_ticks() - before) / os.sysconf("SC_CLK_TCK") / 20
            rss = int(next(l for l in Path(f"/proc/{process.pid}/status").read_text().splitlines() if l.startswith("VmRSS")).split()[1]) / 1024
            record(f"idle daemon, {self.idle_files} files journaled", "lifeboat run", {"cpu_share": idle_cpu, "rss_mib": rss})
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)

    def run(self) -> None:
        quick = self.args.quick
        self.many_count = 2_000 if quick else 20_000
        self.big_gib = 1
        self.latency_files = 10 if quick else 40
        self.burst_files = 100 if quick else 1_000
        self.idle_files = 5_000 if quick else 100_000
        data = self.work / "dataset"
        make_dataset(data, 100 if quick else 1_000, 2, 4 if quick else 40)
        many = self.work / "many"
        make_dataset(many, self.many_count, 0, 0)
        big = self.work / "big" / "render.mp4"
        big.parent.mkdir()
        with open(big, "wb") as handle:
            for _ in range((64 if quick else 1024)):
                handle.write(os.urandom(1 << 20))
        if quick:
            self.big_gib = 1 / 16
        print("benchmarks (medians of", self.args.runs, "runs):", flush=True)
        self.hashing(big)
        self.initial_mirror(data)
        self.noop_resync(many)
        self.restore(data)
        self.latency_and_burst()
        self.idle_daemon()

    def close(self) -> None:
        self.moto.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def value(scenario_start: str, tool: str, key: str) -> float | None:
    for row in RESULTS:
        if row["scenario"].startswith(scenario_start) and row["tool"] == tool:
            return row.get(key)
    return None


def write_report(runs: int, quick: bool) -> None:
    ratios = []
    def ratio(label: str, scenario: str, ours: str, theirs: str, key: str, target: str) -> None:
        a, b = value(scenario, ours, key), value(scenario, theirs, key)
        if a is not None and b:
            ratios.append((label, a / b, target))
    ratio("hash+mirror user CPU vs openssl", "hash+mirror", "lifeboat resync", "openssl dgst -sha256", "user", "≤ 1.2")
    ratio("no-op resync wall vs rclone sync (local)", "no-op resync", "lifeboat resync", "rclone sync (local)", "wall", "≤ 1.0")
    ratio("initial mirror CPU vs rclone copy", "initial mirror", "lifeboat resync", "rclone copy", "cpu", "≤ 0.5")
    ratio("initial mirror wall vs rclone copy", "initial mirror", "lifeboat resync", "rclone copy", "wall", "—")
    ratio("restore wall vs rclone copy", "restore", "lifeboat restore", "rclone copy", "wall", "≤ 1.0")
    ratio("restore CPU vs rclone copy", "restore", "lifeboat restore", "rclone copy", "cpu", "≤ 0.5")
    ratio("latency p50 vs inotifywait loop", "close-to-readable", "lifeboat run", "inotifywait | aws s3 cp", "p50", "—")
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), platform.processor())
    lines = [
        "# Benchmarks", "",
        f"Produced by `python3 bench/run.py` on {dt.date.today()}: {model}, {os.cpu_count()} cores, "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.platform()}. "
        f"S3 server: moto on loopback (the same server for every tool). Medians of {runs} runs"
        + (" (--quick: reduced data sets, not for comparison)" if quick else "") + ".",
        "These machines are shared and noisy: read the ratios, not the absolute times.", "",
        "## Ratios", "", "| comparison | ratio | target |", "| --- | --- | --- |",
        *[f"| {label} | {r:.2f} | {target} |" for label, r, target in ratios], "",
        "## All measurements", "", "| scenario | tool | measurements |", "| --- | --- | --- |",
        *[f"| {row['scenario']} | {row['tool']} | " + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items() if k not in ("scenario", "tool")) + " |" for row in RESULTS],
        "", "Wall and CPU in seconds (CPU = user + system), RSS in MiB.", "", "![ratios](benchmarks.png)", "",
    ]
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "benchmarks.md").write_text("\n".join(lines))
    (docs / "benchmarks.json").write_text(json.dumps(RESULTS, indent=1))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(9, 0.5 + 0.45 * len(ratios)))
    axis.barh([r[0] for r in ratios], [r[1] for r in ratios], color="#2b6cb0")
    axis.axvline(1.0, color="#999", linestyle="--")
    axis.set_xlabel("Lifeboat ÷ alternative (lower is better)")
    axis.invert_yaxis()
    figure.tight_layout()
    figure.savefig(docs / "benchmarks.png", dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    ensure_tools()
    subprocess.run(["swift", "build", "-c", "release", "--product", "lifeboat"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.close()
    write_report(args.runs, args.quick)
    print("wrote docs/benchmarks.md and docs/benchmarks.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
