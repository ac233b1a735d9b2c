"""One measurement of one Python implementation, run by compare.py as a child process.

Prints one JSON object on stdout with the same fields as RedLockRunner, so compare.py treats every
implementation alike. Each run gets its own process: no peer's threads, event loop or connection
pool outlives its run or skews the next one, and its CPU time is counted as ours once reaped.

Implementations (all against 127.0.0.1 servers given by port, with each library's defaults except
the TTL):
  pottery     pottery.Redlock: SET to every master from a new ThreadPoolExecutor, returns on the
              first majority and leaves the rest running in the background ("bail out").
  redlock-py  redlock.Redlock: SET to each server in turn, then the delete script to each in turn.
  aioredlock  aioredlock.Aioredlock: asyncio.gather over aioredis 1.x connections (Lua set script).
  raw         the plain algorithm with redis-py, sequential: SET key token NX PX ttl on each server,
              then the token-checked delete (EVALSHA) on each; no retries, no drift arithmetic.

Modes:
  latency     acquire+release without contention, --iterations times after --warmup untimed ones.
  contention  --contenders threads (asyncio tasks for aioredlock) in this process on one key for
              --duration seconds, each waiting for the lock the way its library offers (pottery:
              acquire(blocking=True, timeout=time left); redlock-py and aioredlock: lock() with
              their default retries, called again until the time is up; raw: retry after a delay
              jittered in [50, 150] ms, like RedLock's default). --contenders 1 with
              --start-from-stdin is one contender of several processes (compare.py starts them).
              Every contender records its holds as CLOCK_MONOTONIC intervals (time.monotonic_ns,
              the clock RedLockRunner reads too); compare.py merges them across contenders and
              processes and counts overlaps and hand-overs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import secrets
import sys
import threading
import time

RELEASE_SCRIPT = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                  "return redis.call('del', KEYS[1]) else return 0 end")
WARMUP_ROUNDS = 20


def summary(samples: list[float]) -> dict:
    """Nearest-rank percentiles in microseconds, as RedLockRunner computes them."""
    if not samples:
        nan = float("nan")
        return {"p50_us": nan, "p99_us": nan, "mean_us": nan, "min_us": nan, "max_us": nan}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * p) - 1))]

    return {"p50_us": rank(0.50), "p99_us": rank(0.99), "mean_us": sum(ordered) / len(ordered),
            "min_us": ordered[0], "max_us": ordered[-1]}


def error_name(error: BaseException) -> str:
    return type(error).__module__.split(".")[0] + "." + type(error).__qualname__


def count(errors: dict[str, int], name: str) -> None:
    errors[name] = errors.get(name, 0) + 1


# MARK: synchronous implementations: acquire(key) -> handle or None, release(handle),
# acquire_waiting(key, deadline) -> handle or None; deadlines in time.monotonic() seconds

class Raw:
    def __init__(self, ports: list[int], ttl_ms: int):
        import redis
        self.clients = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
        self.release_script = self.clients[0].register_script(RELEASE_SCRIPT)
        self.ttl_ms = ttl_ms
        self.quorum = len(ports) // 2 + 1

    def acquire(self, key: str):
        token = secrets.token_hex(16)
        start = time.monotonic()
        granted = 0
        for client in self.clients:
            try:
                granted += bool(client.set(key, token, nx=True, px=self.ttl_ms))
            except Exception:
                pass
        elapsed_ms = (time.monotonic() - start) * 1000
        if granted >= self.quorum and elapsed_ms < self.ttl_ms:
            return key, token
        self.release((key, token))
        return None

    def release(self, handle) -> None:
        key, token = handle
        for client in self.clients:
            try:
                self.release_script(keys=[key], args=[token], client=client)
            except Exception:
                pass

    def acquire_waiting(self, key: str, deadline: float):
        while True:
            handle = self.acquire(key)
            if handle is not None:
                return handle
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(left, random.uniform(0.05, 0.15)))


class RedlockPy:
    def __init__(self, ports: list[int], ttl_ms: int):
        from redlock import Redlock
        self.manager = Redlock([{"host": "127.0.0.1", "port": port} for port in ports])
        self.ttl_ms = ttl_ms

    def acquire(self, key: str):
        return self.manager.lock(key, self.ttl_ms) or None

    def release(self, lock) -> None:
        self.manager.unlock(lock)

    def acquire_waiting(self, key: str, deadline: float):
        # lock() already retries (3 tries, 0.2 s apart); call it again while time is left.
        while time.monotonic() < deadline:
            lock = self.manager.lock(key, self.ttl_ms)
            if lock:
                return lock
        return None


class Pottery:
    def __init__(self, ports: list[int], ttl_ms: int):
        import redis
        self.masters = frozenset(redis.Redis(host="127.0.0.1", port=port) for port in ports)
        self.ttl_ms = ttl_ms
        self.local = threading.local()

    def _lock(self, key: str):
        # A pottery Redlock holds its token, so each thread has its own per key; the clients are shared.
        if not hasattr(self.local, "locks"):
            self.local.locks = {}
        locks = self.local.locks
        if key not in locks:
            from pottery import Redlock
            locks[key] = Redlock(key=key, masters=self.masters, auto_release_time=self.ttl_ms / 1000)
        return locks[key]

    def acquire(self, key: str):
        lock = self._lock(key)
        return lock if lock.acquire(blocking=False) else None

    def release(self, lock) -> None:
        lock.release()

    def acquire_waiting(self, key: str, deadline: float):
        lock = self._lock(key)
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        return lock if lock.acquire(blocking=True, timeout=left) else None


SYNC = {"raw": Raw, "redlock-py": RedlockPy, "pottery": Pottery}


# MARK: latency

def latency_result(samples: list[float], errors: dict[str, int], loop: float) -> dict:
    return {"summary": summary(samples), "samples_us": samples, "loop_seconds": loop,
            "throughput_per_s": len(samples) / loop, "failures": sum(errors.values()), "errors": errors}


def run_sync_latency(impl, key: str, iterations: int, warmup: int) -> dict:
    samples: list[float] = []
    errors: dict[str, int] = {}

    def once(record: bool) -> None:
        start = time.perf_counter_ns()
        try:
            handle = impl.acquire(key)
            if handle is None:
                raise LookupError("not acquired")
            impl.release(handle)
        except Exception as error:  # a peer's failure is a figure, not a crash
            if record:
                count(errors, error_name(error))
            return
        if record:
            samples.append((time.perf_counter_ns() - start) / 1000)

    for _ in range(warmup):
        once(False)
    loop_start = time.perf_counter()
    for _ in range(iterations):
        once(True)
    return latency_result(samples, errors, time.perf_counter() - loop_start)


# MARK: contention

def start_instant(from_stdin: bool) -> int:
    """Now, or the CLOCK_MONOTONIC instant (ns) compare.py sends every contender process once all
    have said `ready`, so that no process's start-up is measured."""
    if not from_stdin:
        return time.monotonic_ns()
    print("ready", flush=True)
    return int(sys.stdin.readline())


def sleep_until(instant_ns: int) -> None:
    time.sleep(max(0, instant_ns - time.monotonic_ns()) / 1e9)


def new_record() -> dict:
    """One contender's holds as [acquired, release started] CLOCK_MONOTONIC ns, and its misses."""
    return {"holds_ns": [], "wait_timeouts": 0, "errors": {}}


def contention_result(records: list[dict], start_ns: int, duration: float, hold_us: float) -> dict:
    return {"start_ns": start_ns, "duration_s": duration, "hold_us": hold_us, "contenders": records}


def run_sync_contention(impl, args) -> dict:
    warmup_key = f"{args.key}:warmup:{secrets.token_hex(4)}"  # its own key: warm-ups do not contend
    for _ in range(WARMUP_ROUNDS):  # connections up and scripts cached before the clock starts
        impl.release(impl.acquire(warmup_key))
    records = [new_record() for _ in range(args.contenders)]
    start = start_instant(args.start_from_stdin)
    deadline_ns = start + int(args.duration * 1e9)

    def contender(record: dict) -> None:
        while time.monotonic_ns() < deadline_ns:
            try:
                handle = impl.acquire_waiting(args.key, deadline_ns / 1e9)
            except Exception as error:
                count(record["errors"], "acquire: " + error_name(error))
                time.sleep(0.01)
                continue
            if handle is None:
                record["wait_timeouts"] += 1
                continue
            acquired = time.monotonic_ns()
            time.sleep(args.hold_us / 1e6)  # 0: just lets another thread run
            record["holds_ns"].append([acquired, time.monotonic_ns()])
            try:
                impl.release(handle)
            except Exception as error:
                count(record["errors"], "release: " + error_name(error))

    threads = [threading.Thread(target=contender, args=(record,)) for record in records]
    sleep_until(start)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return contention_result(records, start, args.duration, args.hold_us)


# MARK: aioredlock

async def aioredlock_latency(manager, args) -> dict:
    ttl_s = args.ttl_ms / 1000
    samples: list[float] = []
    errors: dict[str, int] = {}

    async def once(record: bool) -> None:
        start = time.perf_counter_ns()
        try:
            lock = await manager.lock(args.key, lock_timeout=ttl_s)
            await manager.unlock(lock)
        except Exception as error:
            if record:
                count(errors, error_name(error))
            return
        if record:
            samples.append((time.perf_counter_ns() - start) / 1000)

    for _ in range(args.warmup):
        await once(False)
    loop_start = time.perf_counter()
    for _ in range(args.iterations):
        await once(True)
    return latency_result(samples, errors, time.perf_counter() - loop_start)


async def aioredlock_contention(manager, args) -> dict:
    from aioredlock import LockError
    ttl_s = args.ttl_ms / 1000
    warmup_key = f"{args.key}:warmup:{secrets.token_hex(4)}"
    for _ in range(WARMUP_ROUNDS):
        await manager.unlock(await manager.lock(warmup_key, lock_timeout=ttl_s))
    records = [new_record() for _ in range(args.contenders)]
    start = start_instant(args.start_from_stdin)  # blocks the loop, which has nothing else to do yet
    deadline_ns = start + int(args.duration * 1e9)

    async def contender(record: dict) -> None:
        while time.monotonic_ns() < deadline_ns:
            try:
                lock = await manager.lock(args.key, lock_timeout=ttl_s)
            except LockError:  # its own retries (3, 0.1–0.3 s apart) ran out: call again
                record["wait_timeouts"] += 1
                continue
            except Exception as error:
                count(record["errors"], "acquire: " + error_name(error))
                await asyncio.sleep(0.01)
                continue
            acquired = time.monotonic_ns()
            await asyncio.sleep(args.hold_us / 1e6)
            record["holds_ns"].append([acquired, time.monotonic_ns()])
            try:
                await manager.unlock(lock)
            except Exception as error:
                count(record["errors"], "release: " + error_name(error))

    await asyncio.sleep(max(0, start - time.monotonic_ns()) / 1e9)
    await asyncio.gather(*(contender(record) for record in records))
    return contention_result(records, start, args.duration, args.hold_us)


async def aioredlock_run(args) -> dict:
    from aioredlock import Aioredlock
    manager = Aioredlock([{"host": "127.0.0.1", "port": port} for port in args.ports])
    try:
        if args.mode == "latency":
            return await aioredlock_latency(manager, args)
        return await aioredlock_contention(manager, args)
    finally:
        await manager.destroy()
        await asyncio.sleep(0.05)  # let cleanup tasks it scheduled in the background finish


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", required=True, choices=[*SYNC, "aioredlock"])
    parser.add_argument("--mode", default="latency", choices=["latency", "contention"])
    parser.add_argument("--ports", required=True, type=lambda text: [int(port) for port in text.split(",")])
    parser.add_argument("--key", required=True)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--ttl-ms", type=int, default=10_000)
    parser.add_argument("--contenders", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--hold-us", type=float, default=0.0)
    parser.add_argument("--start-from-stdin", action="store_true",
                        help="after warming up, print 'ready' and start at the CLOCK_MONOTONIC ns read from stdin")
    args = parser.parse_args()

    if args.impl == "aioredlock":
        result = asyncio.run(aioredlock_run(args))
    else:
        impl = SYNC[args.impl](args.ports, args.ttl_ms)
        if args.mode == "latency":
            result = run_sync_latency(impl, args.key, args.iterations, args.warmup)
        else:
            result = run_sync_contention(impl, args)
    result.update({"impl": args.impl, "mode": args.mode, "servers": len(args.ports)})
    if args.mode == "latency":
        result.update({"iterations": args.iterations, "warmup": args.warmup})
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
