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
              jittered in [50, 150] ms, like RedLock's default). A lock-guarded holder count
              records overlaps, which must stay 0.
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


# MARK: synchronous implementations: acquire() -> handle or None, release(handle), acquire_waiting(deadline)

class Raw:
    def __init__(self, ports: list[int], key: str, ttl_ms: int):
        import redis
        self.clients = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
        self.release_script = self.clients[0].register_script(RELEASE_SCRIPT)
        self.key, self.ttl_ms = key, ttl_ms
        self.quorum = len(ports) // 2 + 1

    def acquire(self):
        token = secrets.token_hex(16)
        start = time.monotonic()
        granted = 0
        for client in self.clients:
            try:
                granted += bool(client.set(self.key, token, nx=True, px=self.ttl_ms))
            except Exception:
                pass
        elapsed_ms = (time.monotonic() - start) * 1000
        if granted >= self.quorum and elapsed_ms < self.ttl_ms:
            return token
        self.release(token)
        return None

    def release(self, token) -> None:
        for client in self.clients:
            try:
                self.release_script(keys=[self.key], args=[token], client=client)
            except Exception:
                pass

    def acquire_waiting(self, deadline: float):
        while True:
            token = self.acquire()
            if token is not None:
                return token
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(left, random.uniform(0.05, 0.15)))


class RedlockPy:
    def __init__(self, ports: list[int], key: str, ttl_ms: int):
        from redlock import Redlock
        self.manager = Redlock([{"host": "127.0.0.1", "port": port} for port in ports])
        self.key, self.ttl_ms = key, ttl_ms

    def acquire(self):
        return self.manager.lock(self.key, self.ttl_ms) or None

    def release(self, lock) -> None:
        self.manager.unlock(lock)

    def acquire_waiting(self, deadline: float):
        # lock() already retries (3 tries, 0.2 s apart); call it again while time is left.
        while time.monotonic() < deadline:
            lock = self.manager.lock(self.key, self.ttl_ms)
            if lock:
                return lock
        return None


class Pottery:
    def __init__(self, ports: list[int], key: str, ttl_ms: int):
        import redis
        self.masters = frozenset(redis.Redis(host="127.0.0.1", port=port) for port in ports)
        self.key, self.ttl_ms = key, ttl_ms
        self.local = threading.local()

    def _lock(self):
        # A pottery Redlock holds its token, so each thread has its own; the clients are shared.
        lock = getattr(self.local, "lock", None)
        if lock is None:
            from pottery import Redlock
            lock = Redlock(key=self.key, masters=self.masters, auto_release_time=self.ttl_ms / 1000)
            self.local.lock = lock
        return lock

    def acquire(self):
        lock = self._lock()
        return lock if lock.acquire(blocking=False) else None

    def release(self, lock) -> None:
        lock.release()

    def acquire_waiting(self, deadline: float):
        lock = self._lock()
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        return lock if lock.acquire(blocking=True, timeout=left) else None


SYNC = {"raw": Raw, "redlock-py": RedlockPy, "pottery": Pottery}


def run_sync_latency(impl, iterations: int, warmup: int) -> dict:
    samples: list[float] = []
    errors: dict[str, int] = {}

    def once(record: bool) -> None:
        start = time.perf_counter_ns()
        try:
            handle = impl.acquire()
            if handle is None:
                raise LookupError("not acquired")
            impl.release(handle)
        except Exception as error:  # a peer's failure is a figure, not a crash
            if record:
                errors[error_name(error)] = errors.get(error_name(error), 0) + 1
            return
        if record:
            samples.append((time.perf_counter_ns() - start) / 1000)

    for _ in range(warmup):
        once(False)
    loop_start = time.perf_counter()
    for _ in range(iterations):
        once(True)
    loop = time.perf_counter() - loop_start
    return {"summary": summary(samples), "samples_us": samples, "loop_seconds": loop,
            "throughput_per_s": len(samples) / loop, "failures": sum(errors.values()), "errors": errors}


class Critical:
    """The overlap check: a holder count under a lock, and the hand-over times between holders."""

    def __init__(self):
        self.mutex = threading.Lock()
        self.holders = 0
        self.overlaps = 0
        self.release_started: float | None = None
        self.handovers: list[float] = []

    def enter(self) -> None:
        now = time.perf_counter()
        with self.mutex:
            self.holders += 1
            if self.holders > 1:
                self.overlaps += 1
            if self.release_started is not None:
                self.handovers.append((now - self.release_started) * 1e6)
                self.release_started = None

    def leave(self) -> None:
        with self.mutex:
            self.holders -= 1
            self.release_started = time.perf_counter()


def contention_result(critical: Critical, counts: list[int], timeouts: int, errors: dict, elapsed: float,
                      hold_us: float) -> dict:
    total = sum(counts)
    return {"duration_s": elapsed, "hold_us": hold_us, "acquisitions": total,
            "acquisitions_per_s": total / elapsed, "per_contender": sorted(counts),
            "min_per_contender": min(counts), "max_per_contender": max(counts),
            "overlaps": critical.overlaps, "wait_timeouts": timeouts,
            "failures": sum(errors.values()), "errors": errors,
            "handover": summary(critical.handovers), "handover_samples": len(critical.handovers)}


def run_sync_contention(impl, contenders: int, duration: float, hold_us: float) -> dict:
    for _ in range(20):  # connections up and scripts cached before the clock starts
        impl.release(impl.acquire())
    critical = Critical()
    counts = [0] * contenders
    timeouts = [0] * contenders
    errors: dict[str, int] = {}
    errors_mutex = threading.Lock()
    start = time.monotonic()
    deadline = start + duration

    def contender(index: int) -> None:
        while time.monotonic() < deadline:
            try:
                handle = impl.acquire_waiting(deadline)
            except Exception as error:
                with errors_mutex:
                    errors["acquire: " + error_name(error)] = errors.get("acquire: " + error_name(error), 0) + 1
                time.sleep(0.01)
                continue
            if handle is None:
                timeouts[index] += 1
                continue
            critical.enter()
            time.sleep(hold_us / 1e6)  # 0: just lets another thread run
            critical.leave()
            try:
                impl.release(handle)
            except Exception as error:
                with errors_mutex:
                    errors["release: " + error_name(error)] = errors.get("release: " + error_name(error), 0) + 1
            counts[index] += 1

    threads = [threading.Thread(target=contender, args=(index,)) for index in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    return contention_result(critical, counts, sum(timeouts), errors, elapsed, hold_us)


# MARK: aioredlock

async def aioredlock_run(args) -> dict:
    from aioredlock import Aioredlock, LockError
    manager = Aioredlock([{"host": "127.0.0.1", "port": port} for port in args.ports])
    ttl_s = args.ttl_ms / 1000
    try:
        if args.mode == "latency":
            samples: list[float] = []
            errors: dict[str, int] = {}

            async def once(record: bool) -> None:
                start = time.perf_counter_ns()
                try:
                    lock = await manager.lock(args.key, lock_timeout=ttl_s)
                    await manager.unlock(lock)
                except Exception as error:
                    if record:
                        errors[error_name(error)] = errors.get(error_name(error), 0) + 1
                    return
                if record:
                    samples.append((time.perf_counter_ns() - start) / 1000)

            for _ in range(args.warmup):
                await once(False)
            loop_start = time.perf_counter()
            for _ in range(args.iterations):
                await once(True)
            loop = time.perf_counter() - loop_start
            return {"summary": summary(samples), "samples_us": samples, "loop_seconds": loop,
                    "throughput_per_s": len(samples) / loop, "failures": sum(errors.values()), "errors": errors}

        for _ in range(20):
            await manager.unlock(await manager.lock(args.key, lock_timeout=ttl_s))
        critical = Critical()
        counts = [0] * args.contenders
        timeouts = [0] * args.contenders
        errors = {}
        start = time.monotonic()
        deadline = start + args.duration

        async def contender(index: int) -> None:
            while time.monotonic() < deadline:
                try:
                    lock = await manager.lock(args.key, lock_timeout=ttl_s)
                except LockError:  # its own retries (3, 0.1–0.3 s apart) ran out: call again
                    timeouts[index] += 1
                    continue
                except Exception as error:
                    errors["acquire: " + error_name(error)] = errors.get("acquire: " + error_name(error), 0) + 1
                    await asyncio.sleep(0.01)
                    continue
                critical.enter()
                await asyncio.sleep(args.hold_us / 1e6)
                critical.leave()
                try:
                    await manager.unlock(lock)
                except Exception as error:
                    errors["release: " + error_name(error)] = errors.get("release: " + error_name(error), 0) + 1
                counts[index] += 1

        await asyncio.gather(*(contender(index) for index in range(args.contenders)))
        elapsed = time.monotonic() - start
        return contention_result(critical, counts, sum(timeouts), errors, elapsed, args.hold_us)
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
    args = parser.parse_args()

    if args.impl == "aioredlock":
        result = asyncio.run(aioredlock_run(args))
    else:
        impl = SYNC[args.impl](args.ports, args.key, args.ttl_ms)
        if args.mode == "latency":
            result = run_sync_latency(impl, args.iterations, args.warmup)
        else:
            result = run_sync_contention(impl, args.contenders, args.duration, args.hold_us)
    result.update({"impl": args.impl, "mode": args.mode, "servers": len(args.ports)})
    if args.mode == "latency":
        result.update({"iterations": args.iterations, "warmup": args.warmup})
    else:
        result["contenders"] = args.contenders
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
