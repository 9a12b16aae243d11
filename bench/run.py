#!/usr/bin/env python3
"""Lifeboat side by side with the tools users would otherwise pick, on the same data, the same
local S3 server (moto) and the same machine, in one run. Reports medians and ratios of wall
time, CPU seconds (user+system) and peak RSS, and writes docs/benchmarks.md and a chart.

    python3 bench/run.py [--runs 3] [--quick] [--only SCENARIOS [--update]] [--soak-minutes 3]

--quick shrinks every data set (for checking the script, not for numbers). Installs rclone,
inotify-tools (apt), s3cmd, the aws CLI, moto and matplotlib (pip) when missing. Loopback only;
bounded. A full run takes about half an hour, plus the release build.
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

# How each scenario's rows are named in the results (the start of their "scenario").
SCENARIO_ROWS = {
    "hashing": ("hash+mirror", "upload"), "initial": ("initial mirror",), "noop": ("no-op resync",),
    "restore": ("restore",), "latency": ("close-to-readable", "burst"), "idle": ("idle daemon",),
}


def ensure_tools() -> None:
    """Installs what is missing: Debian packages through apt, Python tools through pip."""
    apt = [pkg for tool, pkg in [("rclone", "rclone"), ("inotifywait", "inotify-tools"), ("openssl", "openssl")] if not shutil.which(tool)]
    if apt:
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *apt], check=True, stdout=subprocess.DEVNULL)
    pip = [pkg for tool, pkg in [("s3cmd", "s3cmd"), ("aws", "awscli")] if not shutil.which(tool)]
    pip += [pkg for module, pkg in [("matplotlib", "matplotlib"), ("moto", "moto[server]"), ("boto3", "boto3")]
            if subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode != 0]
    if pip:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *pip], check=True)


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
            # The same remote as rclone's: aws compares size and modification time, and the
            # objects are newer than the files, so nothing is uploaded again.
            "aws s3 sync": ["aws", "--endpoint-url", self.moto.endpoint, "s3", "sync", str(many), f"s3://{self.bucket}/noop-rclone", "--only-show-errors"],
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
        # One run each: a 1 GiB upload to moto is slow, and peak RSS does not need a median.
        scenario = f"upload {self.big_gib} GiB to S3 (multipart, 1 run)"
        conf = self.conf(big.parent, f"s3://{self.bucket}/big")
        record(scenario, "lifeboat resync", measure([str(self.lifeboat), "resync", "--config", str(conf)], self.env))
        record(scenario, "rclone copy", measure(["rclone", "copy", str(big), f"bench:{self.bucket}/big-rclone"], self.env))
        record(scenario, "aws s3 cp", measure(["aws", "--endpoint-url", self.moto.endpoint, "s3", "cp", str(big), f"s3://{self.bucket}/big-aws/", "--only-show-errors"], self.env))

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
                    pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{prefix}/data/burst-")
                    landed = {o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"] in expected}
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
        scenarios = {
            "hashing": lambda: self.hashing(big), "initial": lambda: self.initial_mirror(data),
            "noop": lambda: self.noop_resync(many), "restore": lambda: self.restore(data),
            "latency": self.latency_and_burst, "idle": self.idle_daemon,
        }
        for name, scenario in scenarios.items():
            if not self.args.only or name in self.args.only:
                scenario()

    def close(self) -> None:
        self.moto.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def value(scenario_start: str, tool: str, key: str) -> float | None:
    for row in RESULTS:
        if row["scenario"].startswith(scenario_start) and row["tool"] == tool:
            return row.get(key)
    return None


def figures() -> list[tuple[str, str, str, bool | None]]:
    """The figures the issues set, as (figure, target, measured, met); met is None when missing."""
    rows: list[tuple[str, str, str, bool | None]] = []

    def ratio(label: str, scenario: str, ours: str, theirs: str, key: str, limit: float) -> None:
        a, b = value(scenario, ours, key), value(scenario, theirs, key)
        if a is None or not b:
            rows.append((label, f"≤ {limit:.2f}×", "not measured", None))
        else:
            rows.append((label, f"≤ {limit:.2f}×", f"{a / b:.2f}× ({a:.2f} vs {b:.2f})", a / b <= limit))

    def absolute(label: str, scenario: str, tool: str, key: str, limit: float, unit: str, at_least: bool = False) -> None:
        a = value(scenario, tool, key)
        if a is None:
            rows.append((label, f"{'≥' if at_least else '≤'} {limit:g} {unit}", "not measured", None))
        else:
            met = a >= limit if at_least else a <= limit
            rows.append((label, f"{'≥' if at_least else '≤'} {limit:g} {unit}", f"{a:.3g} {unit}", met))

    ratio("hash+mirror 1 GiB (directory remote): user CPU vs `openssl dgst -sha256`", "hash+mirror", "lifeboat resync", "openssl dgst -sha256", "user", 1.2)
    absolute("upload 1 GiB to S3: peak RSS", "upload", "lifeboat resync", "rss_mib", 64, "MiB")
    ratio("no-op resync of 20,000 files: wall vs `rclone sync` between local folders", "no-op resync", "lifeboat resync", "rclone sync (local)", "wall", 1.0)
    ratio("initial mirror (1,000 small + 2×40 MiB): CPU vs `rclone copy`", "initial mirror", "lifeboat resync", "rclone copy", "cpu", 0.5)
    absolute("close-to-readable latency p50 (settle 100 ms)", "close-to-readable", "lifeboat run", "p50", 0.25, "s")
    absolute("close-to-readable latency p95 (settle 100 ms)", "close-to-readable", "lifeboat run", "p95", 0.5, "s")
    absolute("burst of 1,000 files in 50 new folders: not readable within 60 s", "burst", "lifeboat run", "missed", 0, "files")
    absolute("idle daemon: CPU share", "idle daemon", "lifeboat run", "cpu_share", 0.01, "cores")
    absolute("idle daemon: RSS with 100,000 files journaled", "idle daemon", "lifeboat run", "rss_mib", 48, "MiB")
    ratio("restore (1,000 small + 2×40 MiB): wall vs `rclone copy`", "restore", "lifeboat restore", "rclone copy", "wall", 1.0)
    ratio("restore (1,000 small + 2×40 MiB): CPU vs `rclone copy`", "restore", "lifeboat restore", "rclone copy", "cpu", 0.5)
    return rows


def side_by_side() -> list[tuple[str, str, dict[str, float]]]:
    """Lifeboat ÷ each alternative, per scenario, for every measurement both have."""
    rows = []
    scenarios = dict.fromkeys(row["scenario"] for row in RESULTS)
    for scenario in scenarios:
        tools = [row for row in RESULTS if row["scenario"] == scenario]
        ours = next((row for row in tools if row["tool"].startswith("lifeboat")), None)
        if not ours:
            continue
        for other in tools:
            if other is ours:
                continue
            shared = {k: ours[k] / other[k] for k in ("wall", "cpu", "user", "rss_mib", "p50", "p95", "max", "seconds")
                      if isinstance(ours.get(k), float) and isinstance(other.get(k), float) and other[k] > 0}
            if shared:
                rows.append((scenario, other["tool"], shared))
    return rows


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def write_report(runs: int, quick: bool, soak: list[str], updated: list[str]) -> None:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), platform.processor())
    versions = []
    for command in (["rclone", "version"], ["aws", "--version"], ["s3cmd", "--version"], ["openssl", "version"], ["inotifywait", "--help"]):
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=30)
            versions.append((out.stdout or out.stderr).strip().splitlines()[0])
        except (OSError, IndexError, subprocess.TimeoutExpired):
            pass
    met = {True: "yes", False: "**no**", None: "—"}
    comparisons = side_by_side()
    lines = [
        "# Benchmarks", "",
        f"Produced by `python3 bench/run.py` on {dt.date.today()}: {model}, {os.cpu_count()} cores, "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.platform()}. "
        f"S3 server: moto on loopback, the same server for every tool (it closes the connection after every "
        f"answer, so every tool pays a TCP connect per request). Medians of {runs} runs"
        + (" (--quick: reduced data sets, not for comparison)" if quick else "") + ". "
        "These machines are shared and noisy: read the ratios, not the absolute times."
        + (f" Scenarios measured again afterwards, alone (`--only {','.join(updated)} --update`): {', '.join(updated)}." if updated else ""), "",
        "Alternatives: " + "; ".join(versions) + ".", "",
        "## The figures set in the issues", "",
        "| figure | target | measured | met |", "| --- | --- | --- | --- |",
        *[f"| {label} | {target} | {measured} | {met[ok]} |" for label, target, measured, ok in figures()], "",
        "## Lifeboat ÷ each alternative", "",
        "Below 1 means Lifeboat used less (time, CPU seconds, memory).", "",
        "| scenario | alternative | wall | CPU | peak RSS | latency p50 |", "| --- | --- | --- | --- | --- | --- |",
        *[f"| {scenario} | {cell(tool)} | " + " | ".join(f"{r[k]:.2f}" if k in r else "—" for k in ("wall", "cpu", "rss_mib", "p50")) + " |"
          for scenario, tool, r in comparisons if any(k in r for k in ("wall", "cpu", "rss_mib", "p50"))], "",
        "## All measurements", "", "| scenario | tool | measurements |", "| --- | --- | --- |",
        *[f"| {row['scenario']} | {cell(row['tool'])} | " + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items() if k not in ("scenario", "tool")) + " |" for row in RESULTS],
        "", "Wall and CPU in seconds (CPU = user + system), RSS in MiB; latency in seconds.", "",
        "![Lifeboat ÷ alternative](benchmarks.png)", "",
        "## Reading the results", "",
        "- **hash+mirror** is measured to a directory remote, so that the user CPU is the hashing: "
        "the copy itself is `copy_file_range` and its fsync, system time that `openssl` does not spend.",
        "- **upload 1 GiB to S3** hashes the file twice: once whole (the `sha256` metadata) and once per "
        "part, because every part carries its own `x-amz-checksum-sha256` for the server to verify "
        "(DESIGN.md). Its user CPU is therefore about twice openssl's, and still a fraction of rclone's.",
        "- **restore CPU** is dominated by the kernel, on both sides: creating 1,002 files, receiving "
        "100 MiB over a connection per request (moto closes every connection), writing it. Lifeboat "
        "also fsyncs every restored file before renaming it into place and records it in the journal, "
        "which rclone does not; its user CPU is two thirds of rclone's, the total about 0.85×.",
        "- **no-op resync** against S3 is where a journal pays: Lifeboat does not list or HEAD the "
        "remote at all, rclone HEADs every object to read its modification time.",
        "- **burst**: the loop copies one file per `aws` process, about one a second, and falls "
        "further behind with every file; Lifeboat uploads in parallel from a queue that survives restarts.", "",
    ]
    if soak:
        lines += ["## Soak", "", "`python3 soak/soak.py` in the same run:", "", "```", *soak, "```", ""]
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "benchmarks.md").write_text("\n".join(lines))
    (docs / "benchmarks.json").write_text(json.dumps(RESULTS, indent=1))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    # The hashing figure is about user CPU: the system time of writing 1 GiB to the directory
    # remote is not hashing, and openssl writes nothing.
    bars = [(f"{scenario.split(' (')[0].split(':')[0]} vs {tool}" + (" (user CPU)" if scenario.startswith("hash") else ""),
             {**r, "cpu": r["user"]} if scenario.startswith("hash") and "user" in r else r)
            for scenario, tool, r in comparisons if "cpu" in r or "p50" in r]
    figure, axis = plt.subplots(figsize=(10, 1 + 0.5 * len(bars)))
    positions = range(len(bars))
    axis.barh([p - 0.2 for p in positions], [r.get("cpu", 0) for _, r in bars], height=0.4, label="CPU seconds", color="#2b6cb0")
    axis.barh([p + 0.2 for p in positions], [r.get("wall", r.get("p50", 0)) for _, r in bars], height=0.4, label="wall time (latency p50)", color="#9ac")
    axis.set_yticks(list(positions), [label for label, _ in bars])
    axis.axvline(1.0, color="#999", linestyle="--")
    axis.set_xlabel("Lifeboat ÷ alternative (lower is better)")
    axis.legend(loc="lower right")
    axis.invert_yaxis()
    figure.tight_layout()
    figure.savefig(docs / "benchmarks.png", dpi=110)


def run_soak(minutes: float) -> list[str]:
    """The soak test in the same run, its summary lines for the report."""
    done = subprocess.run([sys.executable, str(ROOT / "soak" / "soak.py"), "--minutes", str(minutes), "--binary", str(ROOT / ".build" / "release" / "lifeboat")],
                          capture_output=True, text=True, timeout=int(minutes * 60) + 900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("soak:")]
    print("\n".join(lines), flush=True)
    return lines or [f"soak.py exited {done.returncode}: {done.stderr[-500:]}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--soak-minutes", type=float, default=3.0, help="length of the soak run included in the report (0: none)")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=set(),
                        help="comma-separated scenarios: hashing,initial,noop,restore,latency,idle (a partial run does not write the report)")
    parser.add_argument("--update", action="store_true",
                        help="with --only: replace those scenarios' rows in docs/benchmarks.json, keep the others, and rewrite the report")
    args = parser.parse_args()
    if args.update:
        if not args.only:
            parser.error("--update needs --only")
        # Scenarios without an alternative (idle) or whose alternatives are rerun with them
        # (the others) can be measured again alone without breaking a side-by-side comparison.
        rerun = tuple(prefix for name in args.only for prefix in SCENARIO_ROWS[name])
        RESULTS.extend(row for row in json.loads((ROOT / "docs" / "benchmarks.json").read_text()) if not row["scenario"].startswith(rerun))
    ensure_tools()
    subprocess.run(["swift", "build", "-c", "release", "--product", "lifeboat"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.close()
    if args.only and not args.update:
        return 0
    soak = run_soak(args.soak_minutes) if args.soak_minutes > 0 else []
    write_report(args.runs, args.quick, soak, updated=sorted(args.only) if args.update else [])
    print("wrote docs/benchmarks.md and docs/benchmarks.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
