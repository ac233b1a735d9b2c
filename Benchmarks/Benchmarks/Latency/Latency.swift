// What one lock costs the caller: acquire+release through `RedLockClient` at N = 1, 3, 5, 7
// masters (called from the cooperative pool, and from the client's I/O thread through
// `ioExecutor`), with fencing on at N = 1, 3, 5, and extend at N = 5, each against its own freshly
// started local `redis-server`s.
// Compare with the Floor suite's `SET+EVALSHA rounds N=k` (the same two rounds in plain hiredis).
//
// Malloc counts (`mallocCountTotal`) include every thread of the process, so the client's I/O
// thread is counted with the caller's task.
import Benchmark
import BenchmarkRig
import RedLock
import RedisServerKit

private let key = "bench:latency"
private let ttl = Duration.seconds(30)

/// The lock that `extend` renews, carried from one iteration to the next.
private final class HeldLock {
    var lock: Lock?
}

private func acquireAndRelease(_ client: RedLockClient) async throws {
    let lock = try await client.acquire(key, ttl: ttl)
    try await client.release(lock)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 200,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    // Each N twice: called from the cooperative pool, and from the client's I/O thread (no thread
    // hand-off per round).
    for onIOExecutor in [false, true] {
        for count in [1, 3, 5, 7] {
            let rig = ClientRig(servers: count)
            Benchmark("acquire+release N=\(count)\(onIOExecutor ? " on ioExecutor" : "")") { _ in
                let client = try rig.client
                if onIOExecutor {
                    try await withTaskExecutorPreference(client.ioExecutor) { try await acquireAndRelease(client) }
                } else {
                    try await acquireAndRelease(client)
                }
            } setup: {
                try await rig.start(warmUpKey: key, ttl: ttl)
            } teardown: {
                await rig.stop()
            }
        }
    }

    // Fencing on (`.bestEffort`): one fenced script per master instead of `SET … NX PX … GET`.
    // Its cost is the ratio to `acquire+release N=k` from the same run (target: at most 1.05).
    for count in [1, 3, 5] {
        let rig = ClientRig(servers: count) { $0.fencing = .bestEffort }
        Benchmark("acquire+release N=\(count) fencing") { _ in
            try await acquireAndRelease(try rig.client)
        } setup: {
            try await rig.start(warmUpKey: key, ttl: ttl)
        } teardown: {
            await rig.stop()
        }
    }

    let extendRig = ClientRig(servers: 5)
    let held = HeldLock()
    Benchmark("extend N=5") { _ in
        let client = try extendRig.client
        guard let lock = held.lock else { throw HarnessError("extend: no lock held") }
        held.lock = try await client.extend(lock)
    } setup: {
        try await extendRig.start(warmUpKey: key, ttl: ttl)
        held.lock = try await extendRig.client.acquire(key, ttl: ttl)
    } teardown: {
        if let lock = held.lock { try? await extendRig.client.release(lock) }
        held.lock = nil
        await extendRig.stop()
    }
}
