#!/usr/bin/env python3
"""RedLock against the Redlock libraries people use today, in one run, against the same servers.

    Benchmarks/compare/run.sh            # builds RedLockRunner (release), then runs this
    python3 compare.py --runner PATH     # same, with a runner built elsewhere
    run.sh --only floor,redlock-swift --baseline-runner OLD/RedLockRunner   # before/after a change

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
     redlock-swift  RedLockRunner --mode latency (ours: RedLockClient.acquire + release), also on the
                    client's I/O thread (--io-executor) and with fencing on (--fencing best-effort);
                    with --baseline-runner, the plain and I/O-thread loops of that runner too
                    (redlock-swift@before: a RedLockRunner built from an earlier commit).
     raw            SET NX PX then token-checked delete, server after server, with redis-py.
     redlock-py, pottery, aioredlock  each library's acquire + release (peers.py).
   Each cell's iterations are split over --rounds rounds; within a round every implementation runs
   once, in an order rotated each round, so slow drifts in machine load hit all of them alike.
   Every run is its own process with its own untimed warm-up.
   TLS, in the same rounds, against TLS-only redis-servers of its own (certificates made at run time
   with `openssl` in a temporary directory: a CA and a server certificate for 127.0.0.1):
     floor-tls      RedLockRunner --mode floor over rediss://: blocking OpenSSL sessions, hiredis's
                    encoder and redisReader (TLSFloor), the same two parallel rounds.
     redlock-swift-tls  ours over rediss://, connections warm.
     fresh-floor, fresh-floor-tls  new floor connections per iteration (TLS: handshakes in
                    parallel) up to the SET round's last reply: the floor of what one cronlock run pays.
     redlock-swift-fresh, redlock-swift-fresh-tls  a new RedLockClient per iteration, from its
                    creation to its first acquire's return (connect, handshake, set-up, acquire).
   and a TLS table: TLS/plain ratios of p50 and p99, and ours against the TLS floor. `--only tls`
   runs these rows with the plain floor and ours beside them.
4. Contention, N = 3, one key, --duration seconds per run (none with --duration 0 or
   --no-contention), every contender using its library's waiting API:
     K tasks        --contenders contenders in one process (RedLock: tasks; peers: threads, or
                    asyncio tasks for aioredlock), for everyone;
     K processes    K separate processes with one contender each: K = each of --processes for
                    RedLock, K = --contenders for the others.
   RedLock runs every case twice, with release notifications on ("notify", the library's default)
   and off ("polling": waiters only retry every retryDelay). Every process warms up on a key of its
   own, says `ready`, and all of a run's processes start at one CLOCK_MONOTONIC instant sent to them,
   so no start-up is measured. Every contender records its holds as CLOCK_MONOTONIC intervals; this
   script merges them: successful acquisitions/s, min/max per contender, overlaps (a hold starting
   before another ended; must be 0), hand-over time (a hold's end, i.e. its release starting, to the
   next hold's start) and how often the releasing contender took the lock again.
5. After every run: the keys left on every server (servers are flushed before each run, so any key
   is left over by that run), reported per implementation as stale keys, and INFO commandstats
   (zeroed before each run), shown for ours per acquire+release per master.
6. CPU: /proc/stat's busy time minus the time of our own processes (this one, every child it has
   reaped: runners and peer workers, and the redis-servers read from /proc/PID/stat), per run and in
   all: what other processes on this shared machine took while we measured.
7. Prints one table (latency and contention rows, each figure with its ratio to the floor and to
   the best peer of the same case: the best of pottery, redlock-py and aioredlock), the same-run
   ratios of our variants (fencing on ÷ off, after ÷ before), the targets as measured, and writes
   results/latest.json, results/latest.md (the tables) and results/latest.svg.

Everything talks to 127.0.0.1 only; every loop is bounded in count or time (defaults: about four
minutes on two cores).
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import datetime
import hashlib
import json
import math
import os
import platform
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
RESULTS = HERE / "results"

# What this script installs: its own needs, then each peer on its own (versions from requirements.txt).
CORE_PACKAGES = ["redis", "hiredis", "matplotlib"]
PEER_PACKAGES = {"pottery": "pottery", "redlock-py": "redlock-py", "aioredlock": "aioredlock"}
PEERS = list(PEER_PACKAGES)
OURS = "redlock-swift"
# RedLock's contention rows: RedLockConfiguration.notifiesWaitersOnRelease on and off (--notify).
OURS_NOTIFY, OURS_POLLING = "redlock-swift-notify", "redlock-swift-polling"
NOTIFY = {OURS_NOTIFY: "on", OURS_POLLING: "off"}
# RedLock's latency called from the I/O thread (RedLockRunner --io-executor), and with fencing on.
OURS_IO, OURS_FENCING = "redlock-swift-io", "redlock-swift-fencing"
# The same loops run by --baseline-runner (RedLockRunner built from an earlier commit), in the same run.
OURS_BEFORE, OURS_IO_BEFORE = "redlock-swift@before", "redlock-swift-io@before"
BASELINE = {OURS_BEFORE, OURS_IO_BEFORE}
# Each latency variant of ours and what it adds to RedLockRunner's command line. The baseline runner
# gets only flags that every RedLockRunner knows.
RUNNER_FLAGS = {OURS: [], OURS_IO: ["--io-executor"], OURS_FENCING: ["--fencing", "best-effort"],
                OURS_BEFORE: [], OURS_IO_BEFORE: ["--io-executor"]}
# TLS and fresh-connection rows (RedLockRunner against the TLS servers, or a new client per iteration).
FLOOR_TLS, OURS_TLS = "floor-tls", "redlock-swift-tls"
FRESH_FLOOR, FRESH_FLOOR_TLS = "fresh-floor", "fresh-floor-tls"
OURS_FRESH, OURS_FRESH_TLS = "redlock-swift-fresh", "redlock-swift-fresh-tls"
TLS_IMPLS = {FLOOR_TLS, OURS_TLS, FRESH_FLOOR_TLS, OURS_FRESH_TLS}
FRESH_IMPLS = {FRESH_FLOOR, FRESH_FLOOR_TLS, OURS_FRESH, OURS_FRESH_TLS}
FLOORS = {"floor", FLOOR_TLS, FRESH_FLOOR, FRESH_FLOOR_TLS}
# RedLockRunner's --mode for each of its rows that does not run in the measurement's own mode
# (latency, contention).
RUNNER_MODES = {"floor": "floor", FLOOR_TLS: "floor", FRESH_FLOOR: "fresh-floor", FRESH_FLOOR_TLS: "fresh-floor",
                OURS_FRESH: "fresh", OURS_FRESH_TLS: "fresh"}
IMPLS = ["floor", *RUNNER_FLAGS, FLOOR_TLS, OURS_TLS, FRESH_FLOOR, OURS_FRESH, FRESH_FLOOR_TLS, OURS_FRESH_TLS,
         "raw", *PEERS]  # the latency rows, in table order
# Same-run comparisons of two of our variants: (variant, reference, what the ratio is).
PAIRS = [(OURS_FENCING, OURS, "fencing on ÷ off"), (OURS, OURS_BEFORE, "after ÷ before"),
         (OURS_IO, OURS_IO_BEFORE, "after ÷ before, on ioExecutor")]
# `--only tls`: the rows of the TLS comparison (redlock-swift: all of our plain-transport variants).
ALIASES = {"tls": ["floor", OURS, FLOOR_TLS, OURS_TLS, FRESH_FLOOR, OURS_FRESH, FRESH_FLOOR_TLS, OURS_FRESH_TLS]}
CONTENTION_IMPLS = [OURS_NOTIFY, OURS_POLLING, "raw", *PEERS]  # the contention rows, in table order
LABELS = {
    "floor": "floor (hiredis, 2 parallel rounds)",
    OURS: "RedLock (ours)",
    OURS_IO: "RedLock (ours, on ioExecutor)",
    OURS_FENCING: "RedLock (ours, fencing best-effort)",
    OURS_BEFORE: "RedLock (before: --baseline-runner)",
    OURS_IO_BEFORE: "RedLock (before, on ioExecutor)",
    OURS_NOTIFY: "RedLock (ours, notify)",
    OURS_POLLING: "RedLock (ours, polling)",
    FLOOR_TLS: "floor over TLS (OpenSSL + hiredis reader)",
    OURS_TLS: "RedLock (ours) over TLS",
    FRESH_FLOOR: "floor, new connections",
    FRESH_FLOOR_TLS: "floor, new TLS connections",
    OURS_FRESH: "RedLock (ours), new client",
    OURS_FRESH_TLS: "RedLock (ours), new client over TLS",
    "raw": "raw SET NX/Lua DEL (redis-py, sequential)",
    "pottery": "pottery",
    "redlock-py": "redlock-py",
    "aioredlock": "aioredlock",
}


def uses_runner(impl: str) -> bool:
    """Rows measured by RedLockRunner (floors and ours), not by Python."""
    return impl in FLOORS or is_ours(impl)


def is_ours(impl: str) -> bool:
    """RedLock's rows, whichever transport, connections, runner or contention mode."""
    return selectable(impl) in (OURS, OURS_TLS, OURS_FRESH, OURS_FRESH_TLS)


def floor_of(impl: str) -> str:
    """The floor a latency row is divided by: the same transport, warm or fresh connections."""
    if impl in FRESH_IMPLS:
        return FRESH_FLOOR_TLS if impl in TLS_IMPLS else FRESH_FLOOR
    return FLOOR_TLS if impl in TLS_IMPLS else "floor"


def selectable(impl: str) -> str:
    """The name --only knows an implementation by: every RedLock variant is ours."""
    return OURS if impl in NOTIFY or impl in RUNNER_FLAGS else impl


def selected(impls: list[str], options) -> list[str]:
    """The implementations of `impls` that --only selects; the baseline's only with --baseline-runner."""
    return [impl for impl in impls if selectable(impl) in options.only
            and (impl not in BASELINE or options.baseline_runner)]


# What --only accepts besides ALIASES, in table order.
ONLY_NAMES = list(dict.fromkeys(map(selectable, IMPLS)))


# MARK: virtual environment

def ensure_venv() -> None:
    """Re-runs this script inside .venv, creating and filling it first when needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"compare: creating {VENV}", file=sys.stderr)
        created = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if created.returncode != 0:
            # A half-made environment (Debian without python3-venv has no ensurepip) would pass the
            # check above on every later run and fail at pip: remove it and say what is missing.
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit("compare: could not create a virtual environment; on Debian/Ubuntu install python3-venv")
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


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM by pid, then SIGKILL if it has not exited within 5 s."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def die_with_parent() -> None:
    """In the child before exec: SIGKILL when the parent dies, so no server outlives a killed run."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def make_certificates(directory: Path) -> dict[str, str]:
    """A CA and, signed by it, a server certificate for localhost and 127.0.0.1 (EC P-256, as the
    tests use), made with the openssl command in `directory`: the paths of ca, cert and key."""
    if shutil.which("openssl") is None:
        raise SystemExit("compare: openssl not found (Debian package openssl)")
    files = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    (directory / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for command in (
        ["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=compare CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "2", "-extfile", "san.cnf", "-out", "server.pem"],
    ):
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"compare: {' '.join(command[:3])} failed: {done.stderr.strip()}")
    return {name: str(path) for name, path in files.items()}


class Servers:
    """redis-server processes on free loopback ports, without persistence, stopped by pid; with
    `tls` (make_certificates' files), TLS-only (no plain port) and not asking for client certificates."""

    def __init__(self, count: int, directory: Path, tls: dict[str, str] | None = None):
        self.count = count
        self.directory = directory
        self.tls = tls
        self.processes: list[subprocess.Popen] = []
        self.ports: list[int] = []

    def listen_arguments(self, port: int) -> list[str]:
        if not self.tls:
            return ["--port", str(port)]
        return ["--port", "0", "--tls-port", str(port), "--tls-cert-file", self.tls["cert"], "--tls-key-file",
                self.tls["key"], "--tls-ca-cert-file", self.tls["ca"], "--tls-auth-clients", "no"]

    def url(self, port: int) -> str:
        """How RedLockRunner is given the server."""
        return f"rediss://127.0.0.1:{port}" if self.tls else f"127.0.0.1:{port}"

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
                    [executable, *self.listen_arguments(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", str(self.directory), "--logfile", str(log)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=die_with_parent)
                client = self.client(port, timeout=1)
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
                stop_process(process)  # port taken in between, or it did not start: try another
            else:
                raise RuntimeError(f"compare: redis-server did not start; see {self.directory}")

    def client(self, port: int, timeout: float = 5):
        import redis
        tls = {"ssl": True, "ssl_ca_certs": self.tls["ca"]} if self.tls else {}
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout, **tls)

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
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


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50_us": percentile(ordered, 0.5), "p99_us": percentile(ordered, 0.99),
            "mean_us": sum(ordered) / len(ordered) if ordered else float("nan")}


def merged_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Error counts by name, added up."""
    merged: dict[str, int] = {}
    for named in counts:
        for name, count in named.items():
            merged[name] = merged.get(name, 0) + count
    return merged


def failure(returncode: int, stderr: str, stdout: str) -> str:
    tail = (stderr or stdout).strip().splitlines()[-8:]
    return f"exit {returncode}: " + " | ".join(tail)


def last_json(stdout: str) -> tuple[dict | None, str | None]:
    """The JSON object a runner prints as its last line."""
    try:
        return json.loads(stdout.strip().splitlines()[-1]), None
    except (json.JSONDecodeError, IndexError):
        return None, "no JSON on stdout: " + stdout[-500:]


def run_child(command: list[str], timeout: float) -> tuple[dict | None, str | None]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if done.returncode != 0:
        return None, failure(done.returncode, done.stderr, done.stdout)
    return last_json(done.stdout)


def base_command(impl: str, mode: str, servers: Servers, count: int, key: str, options) -> list[str]:
    """What every run of `impl` on the first `count` of `servers` starts with: RedLockRunner for
    the floors and ours (the baseline's rows: --baseline-runner), else peers.py."""
    ports = servers.ports[:count]
    if uses_runner(impl):
        runner = options.baseline_runner if impl in BASELINE else options.runner
        command = [runner, "--servers", ",".join(servers.url(port) for port in ports),
                   "--mode", RUNNER_MODES.get(impl, mode), "--key", key, "--ttl-ms", str(options.ttl_ms)]
        command += ["--tls-ca-file", servers.tls["ca"]] if servers.tls else []
        return command + (["--notify", NOTIFY[impl]] if impl in NOTIFY else []) + RUNNER_FLAGS.get(impl, [])
    return [sys.executable, str(HERE / "peers.py"), "--impl", impl, "--mode", mode,
            "--ports", ",".join(map(str, ports)), "--key", key, "--ttl-ms", str(options.ttl_ms)]


def latency_command(impl: str, servers: Servers, count: int, key: str, options) -> list[str]:
    command = base_command(impl, "latency", servers, count, key, options)
    if impl in FRESH_IMPLS:
        command += ["--iterations", str(options.fresh_per_round), "--warmup", str(options.fresh_warmup)]
    else:
        command += ["--iterations", str(options.per_round), "--warmup", str(options.warmup)]
    return command + (["--samples"] if uses_runner(impl) else [])


def contention_command(impl: str, servers: Servers, count: int, key: str, contenders: int, options) -> list[str]:
    return base_command(impl, "contention", servers, count, key, options) + [
        "--contenders", str(contenders), "--duration", str(options.duration), "--hold-us", str(options.hold_us),
        "--start-from-stdin"]


# How long a run's processes may take to start and warm up: up to 32 at once on two busy cores.
READY_TIMEOUT_S = 120
# From sending the start instant to it: enough for every process to be woken and read it.
START_MARGIN_NS = 100_000_000


class ContenderProcess:
    """One process of a contention run, its stderr kept in a file so that no pipe can fill up. It
    needs no parent-death signal: it ends at its deadline or, still waiting for the start, when its
    stdin closes."""

    def __init__(self, command: list[str]):
        self.log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True)

    def failure(self, stdout: str = "") -> str:
        stop_process(self.process)  # a process that printed something else may still be running
        self.log.seek(0)
        return failure(self.process.returncode, self.log.read(), stdout)

    def close(self) -> None:
        stop_process(self.process)
        self.log.close()


def await_ready(contenders: list[ContenderProcess]) -> str | None:
    """Waits until every process has warmed up and printed `ready`; what went wrong, if not."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with selectors.DefaultSelector() as selector:
        for contender in contenders:
            selector.register(contender.process.stdout, selectors.EVENT_READ, contender)
        while selector.get_map():
            events = selector.select(timeout=max(0.0, deadline - time.monotonic()))
            if not events:
                return f"{len(selector.get_map())} of {len(contenders)} processes not ready after {READY_TIMEOUT_S} s"
            for key, _ in events:
                line = key.fileobj.readline()
                if line.strip() != "ready":
                    return "ended before it was ready: " + key.data.failure(line)
                selector.unregister(key.fileobj)
    return None


def run_contenders(commands: list[list[str]], timeout: float) -> tuple[list[dict] | None, str | None]:
    """Starts one process per command, lets them all warm up, sends them one start instant (so
    that none of their start-up is measured) and collects each one's JSON."""
    contenders: list[ContenderProcess] = []
    try:
        for command in commands:  # one at a time: should one fail to start, the others are still stopped
            contenders.append(ContenderProcess(command))
        error = await_ready(contenders)
        if error:
            return None, error
        start = time.monotonic_ns() + START_MARGIN_NS
        for contender in contenders:
            contender.process.stdin.write(f"{start}\n")
            contender.process.stdin.flush()
        deadline = time.monotonic() + timeout
        results = []
        for contender in contenders:
            try:
                stdout, _ = contender.process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return None, f"timed out after {timeout:.0f} s"
            if contender.process.returncode != 0:
                return None, contender.failure(stdout)
            result, error = last_json(stdout)
            if error:
                return None, error
            results.append(result)
        return results, None
    finally:
        for contender in contenders:
            contender.close()


def merged_holds(results: list[dict], duration: float) -> dict:
    """One contention row from every contender's holds ([acquired, release started] in
    CLOCK_MONOTONIC ns), merged into one timeline whichever process recorded them: a hold that starts
    before an earlier one has ended is an overlap; otherwise the gap since the latest end is a
    hand-over, from one holder's release to the next holder's acquisition. Hand-overs to another
    contender are also counted apart: only those are decided by how waiters learn of a release
    (the releaser itself just calls acquire again)."""
    records = [record for result in results for record in result["contenders"]]
    holds = sorted((start, end, holder) for holder, record in enumerate(records) for start, end in record["holds_ns"])
    overlaps, handovers, to_another = 0, [], []
    latest_end, last_holder = None, None
    for start, end, holder in holds:
        if latest_end is not None and start < latest_end:
            overlaps += 1
        elif latest_end is not None:
            handovers.append((start - latest_end) / 1000)
            if holder != last_holder:
                to_another.append(handovers[-1])
        latest_end = end if latest_end is None else max(latest_end, end)
        last_holder = holder
    per_contender = sorted(len(record["holds_ns"]) for record in records)
    errors = merged_counts(record["errors"] for record in records)
    return {"contenders": len(records), "duration_s": duration, "acquisitions": len(holds),
            "acquisitions_per_s": len(holds) / duration, "per_contender": per_contender,
            "min_per_contender": per_contender[0], "max_per_contender": per_contender[-1], "overlaps": overlaps,
            "handover": summary(handovers), "handover_samples": len(handovers),
            "handover_to_another": summary(to_another), "handovers_to_another": len(to_another),
            "to_another_pct": 100 * len(to_another) / len(handovers) if handovers else float("nan"),
            "wait_timeouts": sum(record["wait_timeouts"] for record in records),
            "failures": sum(errors.values()), "errors": errors}


# Where fencing keeps a resource's fence: beside the lock key, with no TTL, by design (not stale).
FENCE_SUFFIX = b":redlock.fence"


def stale_keys(clusters: list[Servers]) -> dict:
    """Keys left on each server of every cluster by the run that just ended (servers are flushed
    before each run), fences apart."""
    time.sleep(0.1)  # commands the finished process had already sent still land
    left = {"total": 0, "per_server": {}, "examples": []}
    for servers, port in ((servers, port) for servers in clusters for port in servers.ports):
        client = servers.client(port)
        keys = [key for key in client.scan_iter(count=1000) if not key.endswith(FENCE_SUFFIX)]
        left["per_server"][str(port)] = len(keys)
        left["total"] += len(keys)
        for key in keys[:2]:
            left["examples"].append({"server": port, "key": key.decode(errors="replace"), "pttl_ms": client.pttl(key)})
        client.close()
    return left


def flush(clusters: list[Servers]) -> None:
    """Empties every server of every cluster and zeroes its INFO commandstats, so that both count one
    run only."""
    for servers, port in ((servers, port) for servers in clusters for port in servers.ports):
        client = servers.client(port)
        client.flushall()
        client.config_resetstat()
        client.close()


def command_counts(servers: Servers, ports: list[int]) -> tuple[dict[str, int], dict[str, int]]:
    """Calls per command since the last flush, and the servers' µs in them, added up over `ports`
    (INFO commandstats: commands that scripts call count too, e.g. the release script's `get` and
    `del`, and a script's µs include theirs)."""
    calls: dict[str, int] = {}
    usec: dict[str, int] = {}
    for port in ports:
        client = servers.client(port)
        for name, stats in client.info("commandstats").items():
            command = name.removeprefix("cmdstat_")
            if command != "config|resetstat":  # flush's own
                calls[command] = calls.get(command, 0) + stats["calls"]
                usec[command] = usec.get(command, 0) + stats["usec"]
        client.close()
    return calls, usec


@dataclasses.dataclass
class Outcome:
    """One run: its result or error, the keys it left (None when it could not run at all), and
    the commands its servers counted, with their µs."""
    result: dict | None
    error: str | None
    stale: dict | None
    commands: dict[str, int] | None = None
    command_usec: dict[str, int] | None = None


class Session:
    """Runs measurements one at a time on freshly flushed servers, recording for each the CPU other
    processes took meanwhile, the keys it left behind and its error."""

    def __init__(self, servers: Servers, tls_servers: Servers | None, meter: CpuMeter, failed_installs: dict):
        self.servers, self.tls_servers, self.meter, self.failed_installs = servers, tls_servers, meter, failed_installs
        self.clusters = [servers] + ([tls_servers] if tls_servers else [])
        self.runs: list[dict] = []

    def servers_for(self, impl: str) -> Servers:
        """The TLS servers for the TLS rows, the plain ones for the others."""
        return self.tls_servers if impl in TLS_IMPLS else self.servers

    def run(self, impl: str, what: dict, execute: Callable[[], tuple[dict | None, str | None]],
            figures: Callable[[dict], dict]) -> Outcome:
        if impl in self.failed_installs:
            return Outcome(None, "not installed: " + self.failed_installs[impl].splitlines()[-1][:200], None)
        flush(self.clusters)
        before = self.meter.sample()
        result, error = execute()
        cpu = CpuMeter.between(before, self.meter.sample())
        cluster = self.servers_for(impl)
        commands, command_usec = command_counts(cluster, cluster.ports[:what["servers"]])
        left = stale_keys(self.clusters)
        measured = figures(result) if result is not None else {}
        self.runs.append({"impl": impl, **what, **measured, "cpu": cpu, "stale_keys": left["total"],
                          "commands": commands, "command_usec": command_usec, "error": error})
        description = " ".join(f"{name}={value}" for name, value in what.items())
        status = error or ", ".join(f"{name} {fmt(value)}" for name, value in measured.items())
        print(f"  {description:45} {impl:22} {status}; stale keys {left['total']}; others {cpu['others_pct']} % CPU",
              file=sys.stderr, flush=True)
        return Outcome(result, error, left, commands, command_usec)


# MARK: latency

def measure_latency(options, session: Session) -> dict:
    impls = selected(IMPLS, options)
    outcomes: dict[int, dict[str, dict[int, Outcome]]] = {}  # N → implementation → round → outcome
    for n in options.counts:
        for round_index in range(options.rounds):
            shift = round_index % len(impls)
            for impl in impls[shift:] + impls[:shift]:
                command = latency_command(impl, session.servers_for(impl), n, f"cmp:{impl}:latency:n{n}:r{round_index}",
                                          options)
                outcomes.setdefault(n, {}).setdefault(impl, {})[round_index] = session.run(
                    impl, {"mode": "latency", "servers": n, "round": round_index + 1},
                    lambda: run_child(command, 180), lambda result: {"p50_us": result["summary"]["p50_us"]})
    latency = {}
    for n, by_impl in outcomes.items():
        cells = {impl: latency_cell(impl, by_round, by_impl.get(floor_of(impl), {}), n)
                 for impl, by_round in by_impl.items()}
        for variant, reference, _ in PAIRS:
            if "samples" in cells.get(variant, {}) and "samples" in cells.get(reference, {}):
                cells[variant].setdefault("versus", {})[reference] = versus(
                    cells[variant], cells[reference], by_impl[variant], by_impl[reference], cells.get(floor_of(variant), {}))
        latency[str(n)] = cells
    return latency


def round_ratios(by_round: dict[int, Outcome], references: dict[int, Outcome], figure: str) -> list[float]:
    """A summary figure (p50_us, p99_us) of each round divided by the reference's in the same round
    (runs minutes apart see different machine states; runs of one round are seconds apart)."""
    return [by_round[index].result["summary"][figure] / references[index].result["summary"][figure]
            for index in sorted(by_round) if by_round[index].result is not None
            and index in references and references[index].result is not None]


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else float("nan")


def versus(cell: dict, reference: dict, by_round: dict[int, Outcome], references: dict[int, Outcome],
           floor: dict) -> dict:
    """Two of our variants measured in the same run: their p50 and p99 ratios, pooled and within
    each round, and each one's ratio to the floor."""
    compared = {}
    for figure in ("p50_us", "p99_us"):
        name = figure.removesuffix("_us")
        by_rounds = round_ratios(by_round, references, figure)
        compared[name] = cell[figure] / reference[figure]
        compared[f"{name}_by_round"] = [round(value, 3) for value in by_rounds]
        compared[f"{name}_round_median"] = median(by_rounds)
        if floor.get(figure):
            compared[f"{name}_to_floor"] = cell[figure] / floor[figure]
            compared[f"reference_{name}_to_floor"] = reference[figure] / floor[figure]
    return compared


def command_figures(outcomes: Iterable[Outcome], servers: int) -> dict[str, dict[str, float]]:
    """INFO commandstats calls per acquire+release per master, over every round's warm-up and
    timed iterations (the handshake's few commands included), and the servers' µs per call."""
    done = [outcome for outcome in outcomes if outcome.result is not None and outcome.commands is not None]
    iterations = servers * sum(outcome.result["iterations"] + outcome.result["warmup"] for outcome in done)
    calls = merged_counts(outcome.commands for outcome in done)
    usec = merged_counts(outcome.command_usec for outcome in done)
    if not iterations:
        return {}
    ordered = sorted(calls.items(), key=lambda item: -item[1])
    return {"commands_per_iteration": {command: round(count / iterations, 3) for command, count in ordered},
            "server_usec_per_call": {command: round(usec[command] / count, 2) for command, count in ordered if count}}


def latency_cell(impl: str, by_round: dict[int, Outcome], floors: dict[int, Outcome], servers: int) -> dict:
    """One implementation at one N, its rounds' samples pooled."""
    results = {index: outcome.result for index, outcome in by_round.items() if outcome.result is not None}
    errors = [outcome.error for outcome in by_round.values() if outcome.error]
    stale = [outcome.stale for outcome in by_round.values() if outcome.stale]
    if not results:
        return {"error": errors[0]}
    samples = sorted(sample for result in results.values() for sample in result["samples_us"])
    loop = sum(result["loop_seconds"] for result in results.values())
    merged_errors = merged_counts(result["errors"] for result in results.values())
    cell = {"samples": len(samples), **summary(samples),
            "throughput_per_s": len(samples) / loop if loop else float("nan"),
            "failures": sum(merged_errors.values()), "errors": merged_errors,
            "stale_keys": sum(left["total"] for left in stale),
            "stale_examples": [example for left in stale for example in left["examples"]][:4],
            "round_p50_us": [results[index]["summary"]["p50_us"] for index in sorted(results)]}
    # The same ratio taken within each round, and its median over the rounds.
    to_floor = round_ratios(by_round, floors, "p50_us")
    if to_floor:
        cell["p50_to_floor_by_round"] = [round(value, 3) for value in to_floor]
        cell["p50_to_floor_round_median"] = median(to_floor)
    if is_ours(impl):
        cell.update(command_figures(by_round.values(), servers))
    if errors:
        cell["error_in_some_rounds"] = errors[0]
    if impl in ("floor", FLOOR_TLS):
        singles = [result["single_set"] for result in results.values() if result.get("single_set")]
        if singles:
            cell["single_set_p50_us"] = sorted(single["p50_us"] for single in singles)[len(singles) // 2]
    return cell


# MARK: contention

def case_name(kind: str, contenders: int) -> str:
    return f"{contenders} {kind}"


def contention_cases(options) -> list[tuple[str, int, list[str]]]:
    """(kind, contenders, implementations) in run order: everyone's contenders as tasks of one
    process, then separate processes, K = each of --processes for ours and K = --contenders for the
    others. None with --duration 0 (or --no-contention)."""
    if options.duration <= 0:
        return []
    impls = selected(CONTENTION_IMPLS, options)
    ours = [impl for impl in impls if impl in NOTIFY]
    others = [impl for impl in impls if impl not in NOTIFY]
    cases = [("tasks", options.contenders, impls)]
    for count in sorted(set(options.processes) | {options.contenders}):
        chosen = (ours if count in options.processes else []) + (others if count == options.contenders else [])
        if chosen:
            cases.append(("processes", count, chosen))
    return [case for case in cases if case[2]]


def measure_contention(options, session: Session) -> dict:
    n = options.contention_servers
    timeout = options.duration + 60
    table: dict[str, dict] = {}
    for kind, count, impls in contention_cases(options):
        cells = table.setdefault(case_name(kind, count), {})
        for impl in impls:
            key = f"cmp:{impl}:{kind}:k{count}"
            # Tasks: one process with every contender; processes: one contender in each.
            commands = ([contention_command(impl, session.servers, n, key, count, options)] if kind == "tasks"
                        else [contention_command(impl, session.servers, n, key, 1, options)] * count)

            def execute() -> tuple[dict | None, str | None]:
                results, error = run_contenders(commands, timeout)
                return (merged_holds(results, options.duration), None) if results else (None, error)

            outcome = session.run(impl, {"mode": "contention", "case": case_name(kind, count), "servers": n}, execute,
                                  lambda cell: {"acquisitions_per_s": cell["acquisitions_per_s"],
                                                "overlaps": cell["overlaps"]})
            cell = outcome.result or {"error": outcome.error}
            if outcome.stale:
                cell.update(stale_keys=outcome.stale["total"], stale_examples=outcome.stale["examples"][:4])
            cells[impl] = {"kind": kind, "contenders": count, **cell}
    return table


# MARK: table

COLUMNS = ["case", "implementation", "p50 µs", "×floor", "×best peer", "p99 µs", "×floor", "×best peer",
           "ops/s", "×floor", "×best peer", "min/max per contender", "to another %", "to another p50 µs",
           "overlaps", "fail", "stale keys"]


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference or math.isnan(value) or math.isnan(reference):
        return "—"
    return f"{value / reference:.2f}×"


def headline(cell: dict | None) -> tuple:
    """A row's three figures: p50 µs, p99 µs and a rate per second. Latency rows: acquire+release
    and ops/s; contention rows: hand-over and successful acquisitions/s."""
    if not cell or cell.get("error"):
        return None, None, None
    if "handover" in cell:
        return cell["handover"]["p50_us"], cell["handover"]["p99_us"], cell["acquisitions_per_s"]
    return cell["p50_us"], cell["p99_us"], cell["throughput_per_s"]


def best_peer(cells: dict) -> str | None:
    """The best of pottery, redlock-py and aioredlock in one case: the most acquisitions/s under
    contention, the lowest p50 without."""
    measured = [peer for peer in PEERS if headline(cells.get(peer))[0] is not None]
    if not measured:
        return None
    if "handover" in cells[measured[0]]:
        return max(measured, key=lambda peer: cells[peer]["acquisitions_per_s"])
    return min(measured, key=lambda peer: cells[peer]["p50_us"])


def case_rows(case: str, cells: dict, order: list[str], floor_for: Callable[[str], dict | None]) -> list[list[str]]:
    """A case's rows; `floor_for(impl)` is the floor that row is divided by. Rows of new connections
    have no best peer to compare with (the peers are measured warm)."""
    best = best_peer(cells)
    rows = []
    for impl in [impl for impl in order if impl in cells]:
        cell = cells[impl]
        references = list(zip(headline(floor_for(impl)), headline(None if impl in FRESH_IMPLS else cells.get(best))))
        name = LABELS[impl] + (" (best peer)" if impl == best else "")
        if cell.get("error"):
            rows.append([case, name, "error"] + [""] * (len(COLUMNS) - 3))
            continue
        figures = []
        for value, (at_floor, at_best) in zip(headline(cell), references):
            figures += [fmt(value), ratio(value, at_floor), ratio(value, at_best)]
        contention = (["—"] * 4 if "handover" not in cell else
                      [f"{cell['min_per_contender']}/{cell['max_per_contender']}", fmt(cell["to_another_pct"], 1),
                       fmt(cell["handover_to_another"]["p50_us"]), str(cell["overlaps"])])
        rows.append([case, name, *figures, *contention, str(cell["failures"]), str(cell.get("stale_keys", "—"))])
    return rows


def plain(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(cell).rjust(width) if index not in (0, 1) or cell == "" else str(cell).ljust(width)
                       for index, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def table(report: dict) -> tuple[str, str]:
    """The one result table, with its legend, as plain text (printed) and as Markdown (for the README)."""
    options, cpu = report["options"], report["cpu"]["run"]
    n = options["contention_servers"]
    rows = []
    for servers, cells in report["latency"].items():
        rows += case_rows(f"latency N={servers}", cells, IMPLS, lambda impl: cells.get(floor_of(impl)))
    contention_floor = report["latency"].get(str(n), {}).get("floor")
    for case, cells in report["contention"].items():
        rows += case_rows(f"{case} N={n}", cells, CONTENTION_IMPLS, lambda _: contention_floor)
    title = "RedLock and the Python Redlock libraries, one run against the same servers"
    latency_legend = (
        f"latency N: acquire+release one after the other, without contention, {options['iterations']} per cell in "
        f"{options['rounds']} interleaved rounds, TTL {options['ttl_ms']} ms: its p50 and p99, and ops/s.")
    contention_legend = (
        f"K tasks / K processes N={n}: K contenders on one key for {options['duration']} s, in one process "
        f"(peers: threads, aioredlock: asyncio tasks) or each in its own process, all started at one instant, "
        f"all using their library's waiting API: p50 and p99 of the hand-over (a release starting to the next "
        f"holder's acquisition, every contender's holds merged on CLOCK_MONOTONIC), and ops/s = successful "
        f"acquisitions/s; ×floor divides by the floor at N={n}.")
    peer_legend = (
        "×best peer divides by the best of pottery, redlock-py and aioredlock in the same case (lowest latency p50; "
        "most acquisitions/s). to another: the hand-overs where another contender, not the one that released, took "
        "the lock (their share, and their p50): the ones waiters decide. "
        "notify/polling: RedLockConfiguration.notifiesWaitersOnRelease on (the default)/off.")
    tls_legend = (
        "over TLS: the same against TLS-only servers (rediss://), ×floor divides by the TLS floor. new client / new "
        "connections: each iteration from a new client (connect, TLS handshake, set-up) to its first acquire's return, "
        "what one cronlock run pays; the floor's: new connections (TLS: handshakes in parallel) up to the SET round's "
        f"last reply; {options.get('fresh_iterations', '—')} per cell.")
    measured = {impl for cells in report["latency"].values() for impl in cells}
    legend = [latency_legend, *([contention_legend] if report["contention"] else []),
              *([peer_legend] if measured & set(PEERS) or report["contention"] else []),
              *([tls_legend] if measured & (TLS_IMPLS | FRESH_IMPLS) else [])]
    cpu_line = (f"Other processes used {cpu['others_cpu_s']} CPU-s of {cpu['capacity_cpu_s']} available "
                f"({cpu['others_pct']} %) during the {cpu['wall_s']:.0f} s run; steal {cpu['steal_cpu_s']} s.")
    text = "\n".join([title, *legend, "", plain(COLUMNS, rows), "", cpu_line])
    md = "\n".join([f"**{title}**", "", markdown(COLUMNS, rows), "", *[f"- {line}" for line in legend], "", cpu_line])
    return text, md


# MARK: TLS

TLS_COLUMNS = ["N", "connections", "floor p50 µs", "floor TLS p50 µs", "TLS/plain p50", "TLS/plain p99",
               "ours p50 µs", "ours TLS p50 µs", "TLS/plain p50", "TLS/plain p99", "ours/floor p50", "ours/floor TLS p50"]


def tls_rows(report: dict) -> list[list[str]]:
    """Per N, warm and new connections: each transport's floor and ours, TLS/plain ratios of p50
    and p99, and ours against the floor of its transport."""
    rows = []
    for n, cells in report["latency"].items():
        for kind, floors, ours in (("warm", ("floor", FLOOR_TLS), (OURS, OURS_TLS)),
                                   ("new", (FRESH_FLOOR, FRESH_FLOOR_TLS), (OURS_FRESH, OURS_FRESH_TLS))):
            plain_floor, tls_floor, plain_ours, tls_ours = (cells.get(impl, {}) for impl in (*floors, *ours))
            if not (tls_floor.get("p50_us") or tls_ours.get("p50_us")):
                continue
            rows.append([n, kind, fmt(plain_floor.get("p50_us")), fmt(tls_floor.get("p50_us")),
                         ratio(tls_floor.get("p50_us"), plain_floor.get("p50_us")),
                         ratio(tls_floor.get("p99_us"), plain_floor.get("p99_us")),
                         fmt(plain_ours.get("p50_us")), fmt(tls_ours.get("p50_us")),
                         ratio(tls_ours.get("p50_us"), plain_ours.get("p50_us")),
                         ratio(tls_ours.get("p99_us"), plain_ours.get("p99_us")),
                         ratio(plain_ours.get("p50_us"), plain_floor.get("p50_us")),
                         ratio(tls_ours.get("p50_us"), tls_floor.get("p50_us"))])
    return rows


def tls_table(report: dict) -> tuple[str, str]:
    """The TLS comparison as plain text and Markdown (empty when no TLS row ran)."""
    rows = tls_rows(report)
    if not rows:
        return "", ""
    title = "TLS against plain, same run (warm: connections up; new: a new client per acquire, as one cronlock run)"
    return "\n".join([title, "", plain(TLS_COLUMNS, rows)]), "\n".join([f"**{title}**", "", markdown(TLS_COLUMNS, rows)])


# MARK: targets

def check(target: str, measured: str, met: bool, judged: bool = True) -> dict:
    return {"target": target, "measured": measured, "met": met, "judged": judged}


def contention_check(report: dict, kind: str, impl: str, judged: bool) -> dict | None:
    """The issue's contention target, for one of our variants in one case."""
    options = report["options"]
    case = case_name(kind, options["contenders"])
    cells = report["contention"].get(case, {})
    ours, best = cells.get(impl, {}), best_peer(cells)
    if not best or headline(ours)[2] is None:
        return None
    value = ours["acquisitions_per_s"] / cells[best]["acquisitions_per_s"]
    stale = ours.get("stale_keys")
    return check(f"{case}, N={options['contention_servers']}, {LABELS[impl]}: acquisitions/s ≥ 3× the best peer, "
                 f"zero overlaps, zero stale keys",
                 f"{value:.2f}× ({best}), overlaps {ours['overlaps']}, stale keys {stale}",
                 value >= 3 and ours["overlaps"] == 0 and stale == 0, judged)


def targets(report: dict) -> list[dict]:
    """The benchmark issue's targets for this comparison, as measured. The contention target is
    judged on separate processes with the library's default (notify); the tasks case and polling
    are shown beside it."""
    checks = []
    for impl, name in ((OURS, "our p50"), (OURS_IO, "our p50 on ioExecutor")):
        for n, cells in report["latency"].items():
            ours, floor = cells.get(impl, {}), cells.get("floor", {})
            if ours.get("p50_us") and floor.get("p50_us"):
                value = ours["p50_us"] / floor["p50_us"]
                by_round = ours.get("p50_to_floor_by_round", [])
                spread = (f"; within rounds: median {ours['p50_to_floor_round_median']:.2f}×, "
                          f"{min(by_round):.2f}–{max(by_round):.2f}×") if by_round else ""
                checks.append(check(f"N={n}: {name} ≤ 1.3× floor", f"{value:.2f}× pooled{spread}", value <= 1.3,
                                    judged=impl == OURS))
        five = report["latency"].get("5", {})
        best = best_peer(five)
        if best and five.get(impl, {}).get("p50_us"):
            value = five[best]["p50_us"] / five[impl]["p50_us"]
            checks.append(check(f"N=5: {name} ≥ 5× faster than the best peer", f"{value:.1f}× ({best})", value >= 5,
                                judged=impl == OURS))
    for kind in ("processes", "tasks"):
        for impl in NOTIFY:
            checks.append(contention_check(report, kind, impl, judged=kind == "processes" and impl == OURS_NOTIFY))
    ours = [cell for cells in report["contention"].values() for impl, cell in cells.items()
            if impl in NOTIFY and not cell.get("error")]
    overlaps = sum(cell["overlaps"] for cell in ours)
    stale = sum(cell.get("stale_keys", 0) for cell in ours)
    if ours:
        checks.append(check("contention, all our runs: zero overlaps, zero stale keys",
                            f"overlaps {overlaps}, stale keys {stale} in {len(ours)} runs", overlaps == 0 and stale == 0))
    for n, cells in report["latency"].items():
        plain_ours, tls_ours = cells.get(OURS, {}), cells.get(OURS_TLS, {})
        if plain_ours.get("p50_us") and tls_ours.get("p50_us"):
            value = tls_ours["p50_us"] / plain_ours["p50_us"]
            checks.append(check(f"N={n}: our warm TLS p50 ≤ 1.15× our plain p50", f"{value:.2f}×", value <= 1.15))
    latency_stale = sum(cell.get("stale_keys", 0) for cells in report["latency"].values() for impl, cell in cells.items()
                        if is_ours(impl))
    checks.append(check("latency runs: zero stale keys (ours)", str(latency_stale), latency_stale == 0))
    return [item for item in checks + pair_checks(report) if item is not None]


def script_calls(commands: dict[str, float]) -> float:
    return commands.get("evalsha", 0) + commands.get("eval", 0)


def compared_pairs(report: dict) -> Iterable[tuple[str, dict, str, str, str, dict]]:
    """(N, that N's cells, variant, reference, label, their comparison) for every pair (PAIRS)
    measured at every N."""
    for n, cells in report["latency"].items():
        for variant, reference, label in PAIRS:
            compared = cells.get(variant, {}).get("versus", {}).get(reference)
            if compared:
                yield n, cells, variant, reference, label, compared


def pair_checks(report: dict) -> list[dict]:
    """The same-run targets of two of our variants: fencing on costs at most 1.05× off (p50), and
    one script call per master per acquire (INFO commandstats: the fenced run's script calls less
    the release's, which is the plain run's only one); after a change, p50 and p99 to the floor
    within 5 % of before's (at most 1.05× before's in the same run: the floor is shared)."""
    checks = []
    for n, _, variant, reference, label, compared in compared_pairs(report):
        rounds = compared["p50_by_round"]
        measured = (f"p50 {compared['p50']:.3f}× (within rounds: median {compared['p50_round_median']:.3f}×, "
                    f"{min(rounds):.2f}–{max(rounds):.2f}×), p99 {compared['p99']:.3f}× "
                    f"(within rounds: median {compared['p99_round_median']:.3f}×)")
        if reference in BASELINE:
            if "p50_to_floor" in compared:
                measured += (f"; ×floor p50 {compared['reference_p50_to_floor']:.2f} → {compared['p50_to_floor']:.2f}, "
                             f"p99 {compared['reference_p99_to_floor']:.2f} → {compared['p99_to_floor']:.2f}")
            checks.append(check(f"N={n}: {label}: p50 and p99 ×floor within 5 % of before's", measured,
                                compared["p50"] <= 1.05 and compared["p99"] <= 1.05, judged=variant == OURS))
        else:
            checks.append(check(f"N={n}: {label}: p50 ≤ 1.05×", measured, compared["p50"] <= 1.05))
    for n, cells in report["latency"].items():
        fenced, plain = (cells.get(impl, {}).get("commands_per_iteration") for impl in (OURS_FENCING, OURS))
        if fenced and plain:
            per_acquire = script_calls(fenced) - script_calls(plain)
            checks.append(check(f"N={n}: fencing on: one script call per master per acquire",
                                f"{per_acquire:.2f} (evalsha+eval per acquire+release per master: on "
                                f"{script_calls(fenced):.2f}, off {script_calls(plain):.2f} with set {plain.get('set', 0):.2f})",
                                abs(per_acquire - 1) < 0.02))
    return checks


PAIR_COLUMNS = ["N", "compared", "p50 µs", "ratio", "within rounds (median)", "p99 µs", "ratio",
                "within rounds (median)", "p50 ×floor", "p99 ×floor"]


def pair_rows(report: dict) -> list[list[str]]:
    """One row per same-run comparison of two of our variants (PAIRS) and N."""
    rows = []
    for n, cells, variant, reference, label, compared in compared_pairs(report):
        one, other = cells[variant], cells[reference]
        rows.append([n, label, f"{fmt(one['p50_us'])} / {fmt(other['p50_us'])}", f"{compared['p50']:.3f}×",
                     f"{compared['p50_round_median']:.3f}×", f"{fmt(one['p99_us'])} / {fmt(other['p99_us'])}",
                     f"{compared['p99']:.3f}×", f"{compared['p99_round_median']:.3f}×",
                     f"{compared.get('p50_to_floor', math.nan):.2f} / {compared.get('reference_p50_to_floor', math.nan):.2f}",
                     f"{compared.get('p99_to_floor', math.nan):.2f} / {compared.get('reference_p99_to_floor', math.nan):.2f}"])
    return rows


def command_lines(report: dict) -> list[str]:
    """Our variants' INFO commandstats per acquire+release per master (scripts' own calls included)."""
    lines = []
    for n, cells in report["latency"].items():
        for impl in IMPLS:
            commands, usec = (cells.get(impl, {}).get(name, {}) for name in ("commands_per_iteration", "server_usec_per_call"))
            if commands:
                lines.append(f"  N={n} {LABELS[impl]}: " + ", ".join(
                    f"{command} {calls:.2f} ({usec.get(command, math.nan):.1f} µs)"
                    for command, calls in commands.items() if calls >= 0.005))
    return (["INFO commandstats per acquire+release per master (calls ÷ (N × iterations), warm-up and handshake "
             "included; commands that scripts call count too), with the server's µs per call (a script's "
             "include its calls'):", *lines] if lines else [])


def target_line(item: dict) -> str:
    status = "met" if item["met"] else "MISSED"
    return f"  [{status if item['judged'] else 'shown: ' + status.lower()}] {item['target']}: {item['measured']}"


# MARK: plot

SHORT_LABELS = {OURS_NOTIFY: "RedLock notify", OURS_POLLING: "RedLock polling"}
COLORS = {"floor": "#888888", OURS: "#d62728", OURS_IO: "#67001f", OURS_FENCING: "#e377c2", OURS_BEFORE: "#8c564b",
          OURS_IO_BEFORE: "#c49c94", FLOOR_TLS: "#444444", OURS_TLS: "#ad494a", FRESH_FLOOR: "#bcbd22",
          FRESH_FLOOR_TLS: "#8c6d31", OURS_FRESH: "#17becf", OURS_FRESH_TLS: "#1f4e79", OURS_NOTIFY: "#d62728",
          OURS_POLLING: "#f4a582", "raw": "#9467bd",
          "pottery": "#1f77b4", "redlock-py": "#2ca02c", "aioredlock": "#ff7f0e"}


def plot_latency(axes, report: dict) -> None:
    counts = [int(n) for n in report["latency"]]
    for impl in IMPLS:
        points = [(int(n), cells[impl]) for n, cells in report["latency"].items() if cells.get(impl, {}).get("p50_us")]
        if not points:
            continue
        xs = [n for n, _ in points]
        axes.plot(xs, [cell["p50_us"] for _, cell in points], marker="o", color=COLORS[impl], label=LABELS[impl],
                  linewidth=2.4 if impl == OURS else 1.4, linestyle="--" if impl in FLOORS else "-")
        axes.plot(xs, [cell["p99_us"] for _, cell in points], marker=".", color=COLORS[impl], linewidth=0.8,
                  linestyle=":", alpha=0.6)
    axes.set_yscale("log")
    axes.set_xticks(counts)
    axes.set_xlabel("servers (N)")
    axes.set_ylabel("acquire+release, µs (solid p50, dotted p99)")
    axes.set_title("Latency without contention")
    axes.grid(True, which="both", alpha=0.25)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)


def plot_contention(axes, report: dict) -> None:
    """One bar per contention row, grouped by case, top to bottom in table order."""
    rows = [(case, impl, cells[impl]) for case, cells in report["contention"].items()
            for impl in CONTENTION_IMPLS if headline(cells.get(impl))[2]]
    labels = [f"{case} · {SHORT_LABELS.get(impl, LABELS[impl].split(' (')[0])}" for case, impl, _ in rows]
    rates = [cell["acquisitions_per_s"] for _, _, cell in rows]
    positions = range(len(rows))
    axes.barh(positions, rates, color=[COLORS[impl] for _, impl, _ in rows])
    for position, (_, _, cell) in zip(positions, rows):
        axes.text(cell["acquisitions_per_s"], position,
                  f" {cell['acquisitions_per_s']:,.0f}/s, hand-over p50 {fmt(cell['handover']['p50_us'])} µs, "
                  f"min/max {cell['min_per_contender']}/{cell['max_per_contender']}", va="center", fontsize=7)
    for position in range(1, len(rows)):
        if rows[position][0] != rows[position - 1][0]:
            axes.axhline(position - 0.5, color="#bbbbbb", linewidth=0.8)
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(right=max(rates, default=1) * 1.9)
    axes.set_xlabel("successful acquisitions per second")
    options = report["options"]
    axes.set_title(f"Contention: one key, N = {options['contention_servers']}, {options['duration']} s per row")
    axes.grid(True, axis="x", alpha=0.25)


def plot(report: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "redlock-compare"  # stable ids: small diffs between runs
    import matplotlib.pyplot as plt

    bars = sum(len(cells) for cells in report["contention"].values())
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, max(5.4, 1.6 + 0.3 * bars)),
                                         gridspec_kw={"width_ratios": [1, 1.3]})
    plot_latency(left, report)
    plot_contention(right, report)
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
    parser.add_argument("--baseline-runner", default=os.environ.get("REDLOCK_BASELINE_RUNNER"),
                        help="a RedLockRunner built from an earlier commit: adds its latency rows (redlock-swift@before, "
                             "on the ioExecutor too) to ours, interleaved in the same rounds")
    parser.add_argument("--counts", default="1,3,5", help="server counts for the latency rows")
    parser.add_argument("--iterations", type=int, default=3000, help="timed acquire+release per cell")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the iterations are split over")
    parser.add_argument("--warmup", type=int, default=100, help="untimed iterations at the start of every run")
    parser.add_argument("--ttl-ms", type=int, default=10_000)
    parser.add_argument("--contenders", type=int, default=8,
                        help="contenders in the tasks case (everyone) and the peers' processes case")
    parser.add_argument("--processes", default="2,8,32", help="contender process counts for RedLock's process cases")
    parser.add_argument("--contention-servers", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of contention per run (0: no contention runs)")
    parser.add_argument("--hold-us", type=float, default=0.0, help="time each holder keeps the lock (0: a yield)")
    parser.add_argument("--fresh-iterations", type=int, default=600,
                        help="timed new-client acquisitions per fresh-connection cell")
    parser.add_argument("--only", default=",".join(ONLY_NAMES),
                        help="implementations to run, comma-separated (redlock-swift: all of ours over warm plain "
                             "connections, contention included; tls: the TLS comparison's rows)")
    parser.add_argument("--no-contention", action="store_true", help="latency rows only: the same as --duration 0")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few iterations, 1 s of contention")
    parser.add_argument("--out", default=str(RESULTS / "latest"), help="results path without extension")
    options = parser.parse_args(argv)
    if options.quick:
        options.iterations, options.rounds, options.warmup, options.fresh_iterations = 300, 1, 50, 60
        options.duration = min(options.duration, 1.0)
    if options.no_contention:
        options.duration = 0.0
    options.counts = [int(n) for n in options.counts.split(",")]
    options.processes = [int(k) for k in options.processes.split(",") if k]
    options.only = list(dict.fromkeys(chosen for impl in options.only.split(",") if impl for chosen in ALIASES.get(impl, [impl])))
    unknown = set(options.only) - set(ONLY_NAMES)
    if unknown:
        parser.error(f"unknown implementations: {', '.join(sorted(unknown))}")
    if any(uses_runner(impl) for impl in options.only):
        if not options.runner or not os.access(options.runner, os.X_OK):
            parser.error("--runner (or REDLOCK_RUNNER) must name the built RedLockRunner; run.sh builds it")
    if options.baseline_runner and not os.access(options.baseline_runner, os.X_OK):
        parser.error(f"--baseline-runner: not an executable: {options.baseline_runner}")
    options.per_round = max(1, math.ceil(options.iterations / options.rounds))
    options.fresh_per_round = max(1, math.ceil(options.fresh_iterations / options.rounds))
    options.fresh_warmup = min(options.warmup, 10)
    return options


def stale_lines(report: dict) -> list[str]:
    lines = ["Stale keys left after each implementation's runs (all servers, checked after every run):"]
    for impl in dict.fromkeys(IMPLS + CONTENTION_IMPLS):
        counts = {f"N={n}": cells[impl].get("stale_keys") for n, cells in report["latency"].items() if impl in cells}
        counts |= {case: cells[impl].get("stale_keys") for case, cells in report["contention"].items() if impl in cells}
        if counts:
            lines.append(f"  {LABELS[impl]:45} " + ", ".join(
                f"{name}: {fmt(value)}" for name, value in counts.items()))
    return lines


def failure_lines(report: dict) -> list[str]:
    lines = [f"  {impl}: not installed: {(error.strip().splitlines() or ['?'])[-1]}"
             for impl, error in report["install_failures"].items()]
    lines += [f"  {run['impl']} " + " ".join(f"{name}={run[name]}" for name in ("mode", "case", "servers", "round")
                                            if name in run) + f": {run['error']}"
              for run in report["runs"] if run["error"]]
    return ["Could not install or run:", *lines] if lines else []


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
        tls_count = max(options.counts) if TLS_IMPLS & set(options.only) else 0
        tls_servers = Servers(tls_count, Path(directory), make_certificates(Path(directory))) if tls_count else None
        try:
            for cluster in [servers] + ([tls_servers] if tls_servers else []):
                cluster.start()
                print(f"compare: {cluster.count} {'TLS-only ' if cluster.tls else ''}redis-servers on 127.0.0.1 ports "
                      f"{cluster.ports} (pids {cluster.pids})", file=sys.stderr)
            redis_version = servers.version()
            meter = CpuMeter(servers.pids + (tls_servers.pids if tls_servers else []))
            session = Session(servers, tls_servers, meter, failed_installs)
            first = meter.sample()
            latency = measure_latency(options, session)
            contention = measure_contention(options, session)
            whole = CpuMeter.between(first, meter.sample())
        finally:
            servers.stop()
            if tls_servers:
                tls_servers.stop()
    report = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["Benchmarks/compare/run.sh", *without_runner(sys.argv[1:])]),
        "machine": machine_info(),
        "versions": {"redis-server": redis_version, **package_versions()},
        "options": {"counts": options.counts, "iterations": options.iterations, "rounds": options.rounds,
                    "warmup": options.warmup, "ttl_ms": options.ttl_ms, "contenders": options.contenders,
                    "processes": options.processes, "contention_servers": options.contention_servers,
                    "duration": options.duration, "hold_us": options.hold_us, "only": options.only,
                    "fresh_iterations": options.fresh_iterations, "baseline_runner": options.baseline_runner},
        "install_failures": failed_installs,
        "cpu": {"run": whole},
        "latency": latency,
        "contention": contention,
        "runs": session.runs,
    }
    for peer, package in PEER_PACKAGES.items():
        if report["versions"].get(package):
            LABELS[peer] = f"{peer} {report['versions'][package]}"
    report["targets"] = targets(report)
    text, md = table(report)
    tls_text, tls_md = tls_table(report)
    if tls_text:
        text, md = text + "\n\n" + tls_text, md + "\n\n" + tls_md
    target_lines = ["Targets (benchmark issue), as measured:"] + [target_line(item) for item in report["targets"]]
    machine = report["machine"]
    footer = (f"Machine: {machine['cpus']} × {machine['cpu_model']}, {machine['memory_gib']} GiB, Linux {machine['kernel']}, "
              f"Python {machine['python']}, redis-server {redis_version}. Command: `{report['command']}`.")
    pairs = pair_rows(report)
    pair_text = ["Same run, two of our variants (p50 and p99: the first ÷ the second; ×floor: first / second):",
                 plain(PAIR_COLUMNS, pairs), ""] if pairs else []
    pair_md = ["**Same run, two of our variants** (first ÷ second)", "", markdown(PAIR_COLUMNS, pairs), ""] if pairs else []
    commands = command_lines(report)
    print()
    print("\n".join([text, "", *pair_text, *commands, *target_lines, *stale_lines(report), *failure_lines(report), footer]))
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(finite(report), indent=1, allow_nan=False, default=str) + "\n")
    command_md = [*commands, ""] if commands else []
    out.with_suffix(".md").write_text("\n".join([md, "", *pair_md, *command_md, *target_lines, "", footer, ""]))
    plot(report, out.with_suffix(".svg"))
    print(f"wrote {out.with_suffix('.json')}, {out.with_suffix('.md')}, {out.with_suffix('.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
