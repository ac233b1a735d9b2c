#!/usr/bin/env python3
"""RedLock against the Redlock libraries people use today, in one run, against the same servers.

    Benchmarks/compare/run.sh            # builds RedLockRunner (release), then runs this
    python3 compare.py --runner PATH     # same, with a runner built elsewhere

What it does, in order:
1. Makes a private virtual environment in .venv beside this file (once; again when
   requirements.txt changes) and installs the peers from PyPI at the versions pinned there, each on
   its own, so a peer that cannot be installed is reported and the others still run. Then re-runs
   itself inside it.
2. Starts its own redis-server processes on free loopback ports (no persistence), stopped by pid at
   the end, on failure and on SIGTERM too (and with a parent-death signal should this process be
   killed outright).
3. Latency, for N = 1, 3, 5 (the first N servers): acquire+release one after the other, for
     floor          RedLockRunner --mode floor: plain blocking hiredis contexts (HiredisFloor), a
                    parallel round of `SET key token NX PX ttl GET` to all N, then a parallel round of
                    the token-checked delete (EVALSHA) to all N. What no lock on these servers can
                    beat; written in C-level calls from Swift, not in Python, so Python's own cost
                    does not flatter anyone.
     redlock-swift  RedLockRunner --mode latency (ours: RedLockClient.acquire + release).
     raw            SET NX PX then token-checked delete, server after server, with redis-py.
     redlock-py, pottery, aioredlock  each library's acquire + release (peers.py).
   Each cell's iterations are split over --rounds rounds; within a round every implementation runs
   once, in an order rotated each round, so slow drifts in machine load hit all of them alike.
   Every run is its own process with its own untimed warm-up.
4. Contention, N = 3: --contenders contenders (tasks or threads in one process) on one key for
   --duration seconds each: acquisitions/s, min/max per contender, hand-over time (release start to
   the next holder's acquisition), and overlaps, which must be 0.
5. After every run: the keys left on every server (servers are flushed before each run, so any key
   is left over by that run), reported per implementation as stale keys.
6. CPU: /proc/stat's busy time minus the time of our own processes (this one, every child it has
   reaped: runners and peer workers, and the redis-servers read from /proc/PID/stat), per run and in
   all: what other processes on this shared machine took while we measured.
7. Prints one table (each figure, its ratio to the floor of the same N and to the best peer of the
   same N: the fastest of pottery, redlock-py and aioredlock), the targets of the benchmark issue as
   measured, and writes results/latest.json, results/latest.md (the tables) and results/latest.svg.

Everything talks to 127.0.0.1 only; every loop is bounded in count or time (defaults: about two
minutes on two cores).
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
RESULTS = HERE / "results"

# What this script installs: its own needs, then each peer on its own (versions from requirements.txt).
CORE_PACKAGES = ["redis", "hiredis", "matplotlib"]
PEER_PACKAGES = {"pottery": "pottery", "redlock-py": "redlock-py", "aioredlock": "aioredlock"}
PEERS = list(PEER_PACKAGES)
OURS = "redlock-swift"
IMPLS = ["floor", OURS, "raw", *PEERS]
LABELS = {
    "floor": "floor (hiredis, 2 parallel rounds)",
    OURS: "RedLock (ours)",
    "raw": "raw SET NX/Lua DEL (redis-py, sequential)",
    "pottery": "pottery",
    "redlock-py": "redlock-py",
    "aioredlock": "aioredlock",
}


# MARK: virtual environment

def ensure_venv() -> None:
    """Re-runs this script inside .venv, creating and filling it first when needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"compare: creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != digest:
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(REQUIREMENTS)]
        print("compare: installing " + ", ".join(CORE_PACKAGES + PEERS) + " from PyPI into .venv", file=sys.stderr)
        subprocess.run(pip + CORE_PACKAGES, check=True)
        failures = {}
        for peer, package in PEER_PACKAGES.items():
            done = subprocess.run(pip + [package], capture_output=True, text=True)
            if done.returncode != 0:
                failures[peer] = (done.stderr or done.stdout).strip()[-2000:]
                print(f"compare: could not install {package}:\n{failures[peer]}", file=sys.stderr)
        (VENV / ".install-failures.json").write_text(json.dumps(failures, indent=2))
        stamp.write_text(digest)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def install_failures() -> dict:
    path = VENV / ".install-failures.json"
    return json.loads(path.read_text()) if path.exists() else {}


# MARK: servers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def die_with_parent() -> None:
    """In the child before exec: SIGKILL when the parent dies, so no server outlives a killed run."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Servers:
    """redis-server processes on free loopback ports, without persistence, stopped by pid."""

    def __init__(self, count: int, directory: Path):
        self.count = count
        self.directory = directory
        self.processes: list[subprocess.Popen] = []
        self.ports: list[int] = []

    def start(self) -> None:
        import redis
        executable = shutil.which("redis-server")
        if executable is None:
            raise SystemExit("compare: redis-server not found (Debian package redis-server)")
        for _ in range(self.count):
            for attempt in range(5):
                port = free_port()
                log = self.directory / f"redis-{port}.log"
                process = subprocess.Popen(
                    [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", str(self.directory), "--logfile", str(log)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=die_with_parent)
                client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
                deadline = time.monotonic() + 10
                while process.poll() is None and time.monotonic() < deadline:
                    try:
                        if client.ping():
                            break
                    except redis.exceptions.ConnectionError:
                        time.sleep(0.02)
                client.close()
                if process.poll() is None:
                    self.processes.append(process)
                    self.ports.append(port)
                    break
                self._stop(process)  # port taken in between, or it did not start: try another
            else:
                raise RuntimeError(f"compare: redis-server did not start; see {self.directory}")

    def client(self, port: int):
        import redis
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        for process in self.processes:
            self._stop(process)
        self.processes.clear()

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def version(self) -> str:
        return self.client(self.ports[0]).info("server")["redis_version"]


# MARK: CPU

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Machine-wide busy CPU seconds (/proc/stat) and our own: this process, its reaped children,
    and the live redis-servers."""

    def __init__(self, server_pids: list[int]):
        self.server_pids = server_pids

    def sample(self) -> dict:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        busy = (user + nice + system + irq + softirq + steal) / CLOCK_TICK
        total = busy + (idle + iowait) / CLOCK_TICK
        times = os.times()
        own = times.user + times.system + times.children_user + times.children_system
        for pid in self.server_pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    after_name = stat.read().rsplit(")", 1)[1].split()
                own += (int(after_name[11]) + int(after_name[12])) / CLOCK_TICK  # utime, stime
            except (FileNotFoundError, IndexError, ValueError):
                pass
        return {"wall": time.monotonic(), "busy": busy, "total": total, "steal": steal / CLOCK_TICK, "own": own}

    @staticmethod
    def between(before: dict, after: dict) -> dict:
        wall = after["wall"] - before["wall"]
        capacity = after["total"] - before["total"]
        busy = after["busy"] - before["busy"]
        own = after["own"] - before["own"]
        others = max(0.0, busy - own)
        return {"wall_s": round(wall, 3), "capacity_cpu_s": round(capacity, 2), "busy_cpu_s": round(busy, 2),
                "ours_cpu_s": round(own, 2), "others_cpu_s": round(others, 2),
                "others_pct": round(100 * others / capacity, 1) if capacity > 0 else 0.0,
                "steal_cpu_s": round(after["steal"] - before["steal"], 2)}


# MARK: runs

def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * p) - 1))]


def run_child(command: list[str], timeout: float) -> tuple[dict | None, str | None]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        return None, f"exit {done.returncode}: " + " | ".join(tail)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1]), None
    except (json.JSONDecodeError, IndexError):
        return None, "no JSON on stdout: " + done.stdout[-500:]


def command_for(impl: str, mode: str, ports: list[int], key: str, options) -> list[str]:
    if impl in ("floor", OURS):
        command = [options.runner, "--servers", ",".join(f"127.0.0.1:{port}" for port in ports),
                   "--mode", "floor" if impl == "floor" else mode, "--key", key, "--ttl-ms", str(options.ttl_ms)]
    else:
        command = [sys.executable, str(HERE / "peers.py"), "--impl", impl, "--mode", mode,
                   "--ports", ",".join(map(str, ports)), "--key", key, "--ttl-ms", str(options.ttl_ms)]
    if mode == "latency":
        command += ["--iterations", str(options.per_round), "--warmup", str(options.warmup)]
        if impl in ("floor", OURS):
            command.append("--samples")
    else:
        command += ["--contenders", str(options.contenders), "--duration", str(options.duration),
                    "--hold-us", str(options.hold_us)]
    return command


def stale_keys(servers: Servers) -> dict:
    """Keys left on each server by the run that just ended (servers are flushed before each run)."""
    time.sleep(0.1)  # commands the finished process had already sent still land
    left = {"total": 0, "per_server": {}, "examples": []}
    for port in servers.ports:
        client = servers.client(port)
        keys = list(client.scan_iter(count=1000))
        left["per_server"][str(port)] = len(keys)
        left["total"] += len(keys)
        for key in keys[:2]:
            left["examples"].append({"server": port, "key": key.decode(errors="replace"), "pttl_ms": client.pttl(key)})
        client.close()
    return left


def flush(servers: Servers) -> None:
    for port in servers.ports:
        client = servers.client(port)
        client.flushall()
        client.close()


# MARK: tables

def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference or math.isnan(value) or math.isnan(reference):
        return "—"
    return f"{value / reference:.2f}×"


def best_peer_latency(cells: dict) -> str | None:
    candidates = [peer for peer in PEERS if cells.get(peer, {}).get("p50_us")]
    return min(candidates, key=lambda peer: cells[peer]["p50_us"]) if candidates else None


def best_peer_contention(cells: dict) -> str | None:
    candidates = [peer for peer in PEERS if cells.get(peer, {}).get("acquisitions_per_s")]
    return max(candidates, key=lambda peer: cells[peer]["acquisitions_per_s"]) if candidates else None


def tables(report: dict) -> tuple[str, str]:
    """The result tables as plain text (printed) and as Markdown (for the README)."""
    latency_head = ["N", "implementation", "p50 µs", "×floor", "×best peer", "p99 µs", "×floor", "×best peer",
                    "ops/s", "×floor", "×best peer", "fail", "stale keys"]
    latency_rows = []
    for n, cells in report["latency"].items():
        floor = cells.get("floor", {})
        best = best_peer_latency(cells)
        best_cell = cells.get(best, {}) if best else {}
        for impl in IMPLS:
            cell = cells.get(impl)
            if cell is None:
                continue
            name = LABELS[impl] + (" (best peer)" if impl == best else "")
            if cell.get("error"):
                latency_rows.append([n, name, "error"] + [""] * (len(latency_head) - 3))
                continue
            latency_rows.append([
                n, name,
                fmt(cell["p50_us"]), ratio(cell["p50_us"], floor.get("p50_us")), ratio(cell["p50_us"], best_cell.get("p50_us")),
                fmt(cell["p99_us"]), ratio(cell["p99_us"], floor.get("p99_us")), ratio(cell["p99_us"], best_cell.get("p99_us")),
                fmt(cell["throughput_per_s"]), ratio(cell["throughput_per_s"], floor.get("throughput_per_s")),
                ratio(cell["throughput_per_s"], best_cell.get("throughput_per_s")),
                str(cell["failures"]), str(cell["stale_keys"])])
    contention = report["contention"]
    n = report["options"]["contention_servers"]
    floor_rate = report["latency"].get(str(n), {}).get("floor", {}).get("throughput_per_s")
    best = best_peer_contention(contention)
    best_rate = contention.get(best, {}).get("acquisitions_per_s") if best else None
    contention_head = ["implementation", "acq/s", "×floor rate", "×best peer", "min/max per contender",
                       "hand-over p50 µs", "p99 µs", "overlaps", "wait timeouts", "fail", "stale keys"]
    contention_rows = []
    for impl in IMPLS:
        cell = contention.get(impl)
        if cell is None:
            continue
        name = LABELS[impl] + (" (best peer)" if impl == best else "")
        if cell.get("error"):
            contention_rows.append([name, "error"] + [""] * (len(contention_head) - 2))
            continue
        contention_rows.append([
            name, fmt(cell["acquisitions_per_s"]), ratio(cell["acquisitions_per_s"], floor_rate),
            ratio(cell["acquisitions_per_s"], best_rate),
            f"{cell['min_per_contender']}/{cell['max_per_contender']}",
            fmt(cell["handover"]["p50_us"]), fmt(cell["handover"]["p99_us"]), str(cell["overlaps"]),
            str(cell["wait_timeouts"]), str(cell["failures"]), str(cell["stale_keys"])])

    def plain(head, rows):
        widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(str(cell).rjust(width) if index not in (0, 1) or cell == "" else str(cell).ljust(width)
                           for index, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in [head, *rows]]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def markdown(head, rows):
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
        return "\n".join(lines)

    options = report["options"]
    cpu = report["cpu"]["run"]
    latency_title = (f"Acquire+release latency, no contention: {options['iterations']} per cell in "
                     f"{options['rounds']} interleaved rounds, TTL {options['ttl_ms']} ms")
    contention_title = (f"Contention: {options['contenders']} contenders in one process on one key, "
                        f"N = {n}, {options['duration']} s each ('×floor rate': ÷ the floor's ops/s at N = {n})")
    cpu_line = (f"Other processes used {cpu['others_cpu_s']} CPU-s of {cpu['capacity_cpu_s']} available "
                f"({cpu['others_pct']} %) during the {cpu['wall_s']:.0f} s run; steal {cpu['steal_cpu_s']} s.")
    text = "\n".join([latency_title, plain(latency_head, latency_rows), "", contention_title,
                      plain(contention_head, contention_rows), "", cpu_line])
    md = "\n".join([f"**{latency_title}**", "", markdown(latency_head, latency_rows), "",
                    f"**{contention_title}**", "", markdown(contention_head, contention_rows), "", cpu_line])
    return text, md


def targets(report: dict) -> list[dict]:
    """The benchmark issue's targets for this comparison, as measured."""
    checks = []
    for n, cells in report["latency"].items():
        ours, floor = cells.get(OURS, {}), cells.get("floor", {})
        if ours.get("p50_us") and floor.get("p50_us"):
            value = ours["p50_us"] / floor["p50_us"]
            by_round = ours.get("p50_to_floor_by_round", [])
            spread = (f"; within rounds: median {ours['p50_to_floor_round_median']:.2f}×, "
                      f"{min(by_round):.2f}–{max(by_round):.2f}×") if by_round else ""
            checks.append({"target": f"N={n}: our p50 ≤ 1.3× floor", "measured": f"{value:.2f}× pooled{spread}",
                           "met": value <= 1.3})
    five = report["latency"].get("5", {})
    best = best_peer_latency(five)
    if best and five.get(OURS, {}).get("p50_us"):
        value = five[best]["p50_us"] / five[OURS]["p50_us"]
        checks.append({"target": "N=5: ≥ 5× faster than the best peer (p50)",
                       "measured": f"{value:.1f}× ({best})", "met": value >= 5})
    contention = report["contention"]
    ours = contention.get(OURS, {})
    best = best_peer_contention(contention)
    if best and ours.get("acquisitions_per_s"):
        value = ours["acquisitions_per_s"] / contention[best]["acquisitions_per_s"]
        checks.append({"target": "contention: acquisitions/s ≥ 3× the best peer",
                       "measured": f"{value:.2f}× ({best})", "met": value >= 3})
    if "overlaps" in ours:
        checks.append({"target": "contention: zero overlaps (ours)", "measured": str(ours["overlaps"]),
                       "met": ours["overlaps"] == 0})
        checks.append({"target": "contention: zero stale keys (ours)", "measured": str(ours["stale_keys"]),
                       "met": ours["stale_keys"] == 0})
    latency_stale = sum(cells.get(OURS, {}).get("stale_keys", 0) for cells in report["latency"].values())
    checks.append({"target": "latency runs: zero stale keys (ours)", "measured": str(latency_stale),
                   "met": latency_stale == 0})
    return checks


# MARK: plot

def plot(report: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "redlock-compare"  # stable ids: small diffs between runs
    import matplotlib.pyplot as plt

    colors = {"floor": "#888888", OURS: "#d62728", "raw": "#9467bd", "pottery": "#1f77b4",
              "redlock-py": "#2ca02c", "aioredlock": "#ff7f0e"}
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5.4), gridspec_kw={"width_ratios": [1.25, 1]})
    counts = [int(n) for n in report["latency"]]
    for impl in IMPLS:
        points = [(int(n), cells[impl]) for n, cells in report["latency"].items()
                  if cells.get(impl, {}).get("p50_us")]
        if not points:
            continue
        xs = [n for n, _ in points]
        p50 = [cell["p50_us"] for _, cell in points]
        p99 = [cell["p99_us"] for _, cell in points]
        left.plot(xs, p50, marker="o", color=colors[impl], label=LABELS[impl],
                  linewidth=2.4 if impl == OURS else 1.4, linestyle="--" if impl == "floor" else "-")
        left.plot(xs, p99, marker=".", color=colors[impl], linewidth=0.8, linestyle=":", alpha=0.6)
    left.set_yscale("log")
    left.set_xticks(counts)
    left.set_xlabel("servers (N)")
    left.set_ylabel("acquire+release, µs (solid p50, dotted p99)")
    left.set_title("Latency without contention")
    left.grid(True, which="both", alpha=0.25)
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)

    contention = report["contention"]
    names = [impl for impl in IMPLS if contention.get(impl, {}).get("acquisitions_per_s")]
    rates = [contention[impl]["acquisitions_per_s"] for impl in names]
    bars = right.barh([LABELS[impl].split(" (")[0] for impl in names], rates, color=[colors[impl] for impl in names])
    for bar, impl in zip(bars, names):
        cell = contention[impl]
        right.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                   f" {cell['acquisitions_per_s']:,.0f}/s  min/max {cell['min_per_contender']}/{cell['max_per_contender']}",
                   va="center", fontsize=8)
    right.invert_yaxis()
    right.set_xlim(right=max(rates, default=1) * 1.6)
    right.set_xlabel("successful acquisitions per second")
    options = report["options"]
    right.set_title(f"{options['contenders']} contenders, one key, N = {options['contention_servers']}")
    right.grid(True, axis="x", which="both", alpha=0.25)
    machine, cpu = report["machine"], report["cpu"]["run"]
    figure.suptitle(f"RedLock vs Python Redlock libraries, one run on {machine['cpus']} × {machine['cpu_model']}, "
                    f"redis {report['versions']['redis-server']}; other processes: {cpu['others_pct']} % CPU",
                    fontsize=10)
    figure.tight_layout()
    figure.savefig(path, format=path.suffix.lstrip("."), metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(figure)


# MARK: main

def without_runner(argv: list[str]) -> list[str]:
    """The arguments as a reader would retype them: run.sh supplies --runner itself."""
    kept, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "--runner":
            skip = True
        elif not argument.startswith("--runner="):
            kept.append(argument)
    return kept


def finite(value):
    """NaN and infinity as null, so the JSON stays strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


def machine_info() -> dict:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) // 1024 // 1024
    return {"cpu_model": model, "cpus": os.cpu_count(), "memory_gib": memory, "kernel": platform.release(),
            "python": platform.python_version()}


def package_versions() -> dict:
    from importlib import metadata
    versions = {}
    for package in [*PEER_PACKAGES.values(), "redis", "hiredis", "aioredis"]:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def parse_options(argv: list[str]):
    parser = argparse.ArgumentParser(description="RedLock against pottery, redlock-py and aioredlock, in one run.")
    parser.add_argument("--runner", default=os.environ.get("REDLOCK_RUNNER"),
                        help="RedLockRunner executable (run.sh passes the release build)")
    parser.add_argument("--counts", default="1,3,5", help="server counts for the latency table")
    parser.add_argument("--iterations", type=int, default=3000, help="timed acquire+release per cell")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the iterations are split over")
    parser.add_argument("--warmup", type=int, default=100, help="untimed iterations at the start of every run")
    parser.add_argument("--ttl-ms", type=int, default=10_000)
    parser.add_argument("--contenders", type=int, default=8)
    parser.add_argument("--contention-servers", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of contention per implementation")
    parser.add_argument("--hold-us", type=float, default=0.0, help="time each holder keeps the lock (0: a yield)")
    parser.add_argument("--only", default=",".join(IMPLS), help="implementations to run, comma-separated")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few iterations, 1 s of contention")
    parser.add_argument("--out", default=str(RESULTS / "latest"), help="results path without extension")
    options = parser.parse_args(argv)
    if options.quick:
        options.iterations, options.rounds, options.warmup, options.duration = 300, 1, 50, 1.0
    options.counts = [int(n) for n in options.counts.split(",")]
    options.only = [impl for impl in options.only.split(",") if impl]
    unknown = set(options.only) - set(IMPLS)
    if unknown:
        parser.error(f"unknown implementations: {', '.join(sorted(unknown))}")
    if any(impl in options.only for impl in ("floor", OURS)):
        if not options.runner or not os.access(options.runner, os.X_OK):
            parser.error("--runner (or REDLOCK_RUNNER) must name the built RedLockRunner; run.sh builds it")
    options.per_round = max(1, math.ceil(options.iterations / options.rounds))
    return options


def measure(options, servers: Servers, meter: CpuMeter, failed_installs: dict) -> dict:
    runs = []
    raw_latency: dict[int, dict[str, dict[int, dict]]] = {}  # N → implementation → round → result
    errors: dict[tuple, str] = {}
    stale: dict[tuple, int] = {}
    stale_examples: dict[tuple, list] = {}
    impls = [impl for impl in IMPLS if impl in options.only]

    def one(impl: str, mode: str, n: int, round_index: int) -> dict | None:
        cell = (mode, n, impl)
        if impl in failed_installs:
            errors[cell] = "not installed: " + failed_installs[impl].splitlines()[-1][:200]
            return None
        flush(servers)
        key = f"cmp:{impl}:{mode}:n{n}:r{round_index}"
        command = command_for(impl, mode, servers.ports[:n], key, options)
        timeout = options.duration + 90 if mode == "contention" else 180
        before = meter.sample()
        result, error = run_child(command, timeout)
        cpu = CpuMeter.between(before, meter.sample())
        left = stale_keys(servers)
        stale[cell] = stale.get(cell, 0) + left["total"]
        stale_examples.setdefault(cell, []).extend(left["examples"])
        figure = None
        if result is not None:
            figure = result["summary"]["p50_us"] if mode == "latency" else result["acquisitions_per_s"]
        runs.append({"impl": impl, "mode": mode, "servers": n, "round": round_index,
                     "p50_us" if mode == "latency" else "acquisitions_per_s": figure, "cpu": cpu,
                     "stale_keys": left["total"], "error": error})
        status = error or (f"p50 {result['summary']['p50_us']:.0f} µs" if mode == "latency"
                           else f"{result['acquisitions_per_s']:.0f} acq/s")
        print(f"  {mode:10} N={n} round {round_index + 1}  {impl:13} {status}; stale keys {left['total']}; "
              f"others {cpu['others_pct']} % CPU", file=sys.stderr, flush=True)
        if error:
            errors[cell] = error
            return None
        return result

    for n in options.counts:
        for round_index in range(options.rounds):
            shift = round_index % len(impls)
            for impl in impls[shift:] + impls[:shift]:
                result = one(impl, "latency", n, round_index)
                if result is not None:
                    raw_latency.setdefault(n, {}).setdefault(impl, {})[round_index] = result

    latency: dict[str, dict] = {}
    for n in options.counts:
        cells = latency.setdefault(str(n), {})
        for impl in impls:
            by_round = raw_latency.get(n, {}).get(impl, {})
            results = list(by_round.values())
            if ("latency", n, impl) in errors and not results:
                cells[impl] = {"error": errors[("latency", n, impl)]}
                continue
            samples = sorted(sample for result in results for sample in result["samples_us"])
            loop = sum(result["loop_seconds"] for result in results)
            merged_errors: dict[str, int] = {}
            for result in results:
                for name, count in result["errors"].items():
                    merged_errors[name] = merged_errors.get(name, 0) + count
            cell = {"samples": len(samples), "p50_us": percentile(samples, 0.5), "p99_us": percentile(samples, 0.99),
                    "mean_us": sum(samples) / len(samples) if samples else float("nan"),
                    "throughput_per_s": len(samples) / loop if loop else float("nan"),
                    "failures": sum(merged_errors.values()), "errors": merged_errors,
                    "stale_keys": stale.get(("latency", n, impl), 0),
                    "stale_examples": stale_examples.get(("latency", n, impl), [])[:4]}
            # The same ratio taken within each round (runs minutes apart see different machine
            # states; runs of one round are seconds apart), and its median over the rounds.
            floors = raw_latency.get(n, {}).get("floor", {})
            cell["round_p50_us"] = [by_round[index]["summary"]["p50_us"] for index in sorted(by_round)]
            round_ratios = [by_round[index]["summary"]["p50_us"] / floors[index]["summary"]["p50_us"]
                            for index in sorted(by_round) if index in floors]
            if round_ratios:
                cell["p50_to_floor_by_round"] = [round(value, 3) for value in round_ratios]
                cell["p50_to_floor_round_median"] = sorted(round_ratios)[len(round_ratios) // 2]
            if ("latency", n, impl) in errors:
                cell["error_in_some_rounds"] = errors[("latency", n, impl)]
            if impl == "floor":
                singles = [result["single_set"] for result in results if result.get("single_set")]
                if singles:
                    cell["single_set_p50_us"] = sorted(single["p50_us"] for single in singles)[len(singles) // 2]
            cells[impl] = cell

    contention: dict[str, dict] = {}
    n = options.contention_servers
    for impl in [impl for impl in impls if impl != "floor"]:
        result = one(impl, "contention", n, 0)
        if result is None:
            contention[impl] = {"error": errors[("contention", n, impl)]}
            continue
        result["stale_keys"] = stale.get(("contention", n, impl), 0)
        result["stale_examples"] = stale_examples.get(("contention", n, impl), [])[:4]
        contention[impl] = result
    return {"latency": latency, "contention": contention, "runs": runs}


def main() -> int:
    ensure_venv()
    options = parse_options(sys.argv[1:])
    failed_installs = install_failures()
    def terminated(*_):
        print("compare: terminated; stopping the servers", file=sys.stderr)
        sys.exit(143)  # unwinds through the finally below, which stops the servers

    signal.signal(signal.SIGTERM, terminated)
    RESULTS.mkdir(exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    count = max(options.counts + [options.contention_servers])
    with tempfile.TemporaryDirectory(prefix="redlock-compare-") as directory:
        servers = Servers(count, Path(directory))
        try:
            servers.start()
            print(f"compare: {count} redis-servers on 127.0.0.1 ports {servers.ports} (pids {servers.pids})",
                  file=sys.stderr)
            redis_version = servers.version()
            meter = CpuMeter(servers.pids)
            first = meter.sample()
            measured = measure(options, servers, meter, failed_installs)
            whole = CpuMeter.between(first, meter.sample())
        finally:
            servers.stop()
    report = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["Benchmarks/compare/run.sh", *without_runner(sys.argv[1:])]),
        "machine": machine_info(),
        "versions": {"redis-server": redis_version, **package_versions()},
        "options": {"counts": options.counts, "iterations": options.iterations, "rounds": options.rounds,
                    "warmup": options.warmup, "ttl_ms": options.ttl_ms, "contenders": options.contenders,
                    "contention_servers": options.contention_servers, "duration": options.duration,
                    "hold_us": options.hold_us, "only": options.only},
        "install_failures": failed_installs,
        "cpu": {"run": whole},
        "latency": measured["latency"],
        "contention": measured["contention"],
        "runs": measured["runs"],
    }
    for peer, package in PEER_PACKAGES.items():
        if report["versions"].get(package):
            LABELS[peer] = f"{peer} {report['versions'][package]}"
    report["targets"] = targets(report)
    text, md = tables(report)
    target_lines = ["Targets (benchmark issue), as measured:"] + [
        f"  [{'met' if check['met'] else 'MISSED'}] {check['target']}: {check['measured']}" for check in report["targets"]]
    stale_lines = ["Stale keys left after each implementation's runs (all servers, checked after every run):"]
    for impl in IMPLS:
        counts = {n: cells[impl].get("stale_keys") for n, cells in report["latency"].items() if impl in cells}
        counts["contention"] = report["contention"].get(impl, {}).get("stale_keys")
        if any(value is not None for value in counts.values()):
            stale_lines.append(f"  {LABELS[impl]:45} " + ", ".join(
                f"{'N=' + n if n != 'contention' else n}: {value if value is not None else '—'}" for n, value in counts.items()))
    failures = [f"  {impl}: not installed: {(error.strip().splitlines() or ['?'])[-1]}" for impl, error in failed_installs.items()]
    failures += [f"  {run['impl']} {run['mode']} N={run['servers']} round {run['round'] + 1}: {run['error']}"
                 for run in report["runs"] if run["error"]]
    print()
    print(text)
    print()
    print("\n".join(target_lines))
    print("\n".join(stale_lines))
    if failures:
        print("Could not install or run:")
        print("\n".join(failures))
    machine = report["machine"]
    footer = (f"Machine: {machine['cpus']} × {machine['cpu_model']}, {machine['memory_gib']} GiB, Linux {machine['kernel']}, "
              f"Python {machine['python']}, redis-server {redis_version}. Command: `Benchmarks/compare/run.sh`.")
    print(footer)
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(finite(report), indent=1, allow_nan=False, default=str) + "\n")
    out.with_suffix(".md").write_text(md + "\n\n" + "\n".join(target_lines) + "\n\n" + footer + "\n")
    plot(report, out.with_suffix(".svg"))
    print(f"wrote {out.with_suffix('.json')}, {out.with_suffix('.md')}, {out.with_suffix('.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
