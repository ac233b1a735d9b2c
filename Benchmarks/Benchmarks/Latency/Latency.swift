// What one lock costs the caller: acquire+release through `RedLockClient` at N = 1, 3, 5, 7
// masters (called from the cooperative pool, and from the client's I/O thread through
// `ioExecutor`), and extend at N = 5, each against its own freshly started local `redis-server`s.
// Compare with the Floor suite's `SET+EVALSHA rounds N=k` (the same two rounds in plain hiredis).
//
// Malloc counts (`mallocCountTotal`) include every thread of the process, so the client's I/O
// thread is counted with the caller's task.
import Benchmark
import RedLock
import RedisTestSupport

private let key = "bench:latency"
private let ttl = Duration.seconds(30)

/// Servers and one client, alive from a benchmark's setup to its teardown. The framework runs
/// setup, every iteration and teardown one after another, never at once.
private final class LockRig {
    let servers: Int
    private var cluster: RedisCluster?
    private var redLock: RedLockClient?
    /// The lock that `extend` renews, carried from one iteration to the next.
    var held: Lock?

    init(servers: Int) { self.servers = servers }

    func start() async throws {
        let cluster = try await RedisCluster.start(count: servers)
        self.cluster = cluster
        let client = try RedLockClient(configuration: .init(serverAddresses: cluster.urls))
        redLock = client
        // One lock before measuring: every connection is up and every script is cached.
        try await client.release(try await client.acquire(key, ttl: ttl))
    }

    func stop() async {
        if let held, let redLock { try? await redLock.release(held) }
        held = nil
        await redLock?.shutdown()
        redLock = nil
        cluster?.stopAll()
        cluster = nil
    }

    var client: RedLockClient {
        get throws {
            guard let redLock else { throw HarnessError("lock rig used outside setUp/tearDown") }
            return redLock
        }
    }
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
            let rig = LockRig(servers: count)
            Benchmark("acquire+release N=\(count)\(onIOExecutor ? " on ioExecutor" : "")") { _ in
                let client = try rig.client
                if onIOExecutor {
                    try await withTaskExecutorPreference(client.ioExecutor) { try await acquireAndRelease(client) }
                } else {
                    try await acquireAndRelease(client)
                }
            } setup: {
                try await rig.start()
            } teardown: {
                await rig.stop()
            }
        }
    }

    let extendRig = LockRig(servers: 5)
    Benchmark("extend N=5") { _ in
        let client = try extendRig.client
        guard let lock = extendRig.held else { throw HarnessError("extend: no lock held") }
        extendRig.held = try await client.extend(lock)
    } setup: {
        try await extendRig.start()
        extendRig.held = try await extendRig.client.acquire(key, ttl: ttl)
    } teardown: {
        await extendRig.stop()
    }
}
