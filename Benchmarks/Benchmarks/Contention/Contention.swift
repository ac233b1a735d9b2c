// K contenders (tasks in this process, sharing one client) on one key at N = 3, each looping
// acquire(wait: .upTo(5 s)) → critical section → release for a fixed window per iteration; once
// with release notices (a release wakes the longest waiter at once) and once with polling only
// (`notifiesWaitersOnRelease = false`). Separate processes contend in Benchmarks/compare.
//
// Custom metrics, one value per iteration unless said otherwise:
// - `acquisitions/s`: locks taken and released in the window, per second of window;
// - `hand-over (μs)`: one value per hand-over, from the holder calling release to a *different*
//   contender's acquire returning (when polling, dominated by the waiters' retry delay,
//   100 ms ± 50 %);
// - `fewest per contender` / `most per contender`: fairness within the window;
// - `overlaps`: times a contender entered the critical section while another was inside. It must
//   read 0; any other value also fails the benchmark.
// After each window (outside the measurement) the key must be gone from every server.
import Benchmark
import BenchmarkRig
import RedLock
import RedisServerKit
import Synchronization

private let key = "bench:contention"
private let ttl = Duration.seconds(30)
private let window = Duration.milliseconds(300)

private enum Metric {
    static let acquisitionsPerSecond = BenchmarkMetric.custom("acquisitions/s", polarity: .prefersLarger, useScalingFactor: false)
    static let handOver = BenchmarkMetric.custom("hand-over (μs)", useScalingFactor: false)
    static let fewest = BenchmarkMetric.custom("fewest per contender", polarity: .prefersLarger, useScalingFactor: false)
    static let most = BenchmarkMetric.custom("most per contender", useScalingFactor: false)
    static let overlaps = BenchmarkMetric.custom("overlaps", useScalingFactor: false)
}

/// What the contenders share during one window; every access holds the mutex.
private struct Window {
    var inside = 0
    var overlaps = 0
    var acquisitions: [Int]
    var lastHolder: Int?
    var releaseCalledAt: ContinuousClock.Instant?
    var handOvers: [Duration] = []

    init(contenders: Int) { acquisitions = Array(repeating: 0, count: contenders) }

    mutating func enter(_ contender: Int) {
        inside += 1
        if inside > 1 { overlaps += 1 }
        if let lastHolder, lastHolder != contender, let releaseCalledAt {
            handOvers.append(.now - releaseCalledAt)
        }
        lastHolder = contender
    }

    mutating func leave(_ contender: Int) {
        inside -= 1
        acquisitions[contender] += 1
        releaseCalledAt = .now
    }
}

/// The window's state, shared by reference among the contenders' tasks.
private final class SharedWindow: Sendable {
    let state: Mutex<Window>
    init(contenders: Int) { state = Mutex(Window(contenders: contenders)) }
}

/// One contender: lock, critical section, release, until the window closes.
private func contend(_ contender: Int, client: RedLockClient, shared: SharedWindow, until deadline: ContinuousClock.Instant) async throws {
    while ContinuousClock.now < deadline, !Task.isCancelled {
        let lock: Lock
        do {
            lock = try await client.acquire(key, ttl: ttl, wait: .upTo(.seconds(5)))
        } catch {
            // `catch where` on this typed error crashes the 6.3.1 compiler (SILGen ownership).
            guard error.code == .cancelled else { throw error }
            return  // the window closed while this contender waited; nothing of ours is left
        }
        shared.state.withLock { $0.enter(contender) }
        await Task.yield()  // let the others run while this one holds the lock
        shared.state.withLock { $0.leave(contender) }
        try await client.release(lock)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [Metric.acquisitionsPerSecond, Metric.handOver, Metric.fewest, Metric.most, Metric.overlaps],
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 10
    )

    for notifiesWaiters in [true, false] {
        for contenders in [2, 8, 32] {
            let rig = ClientRig(servers: 3) { $0.notifiesWaitersOnRelease = notifiesWaiters }
            Benchmark("contention K=\(contenders) N=3 \(notifiesWaiters ? "notified" : "polling")") { benchmark in
                let client = try rig.client
                let shared = SharedWindow(contenders: contenders)
                let start = ContinuousClock.now
                let deadline = start + window
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for contender in 0..<contenders {
                        group.addTask { try await contend(contender, client: client, shared: shared, until: deadline) }
                    }
                    // Waiters still asleep at the deadline are cancelled rather than waited for.
                    try await Task.sleep(until: deadline)
                    group.cancelAll()
                    try await group.waitForAll()
                }
                let elapsed = ContinuousClock.now - start
                benchmark.stopMeasurement()

                let result = shared.state.withLock { $0 }
                let total = result.acquisitions.reduce(0, +)
                benchmark.measurement(Metric.acquisitionsPerSecond, Int((Double(total) / (elapsed / .seconds(1))).rounded()))
                benchmark.measurement(Metric.fewest, result.acquisitions.min() ?? 0)
                benchmark.measurement(Metric.most, result.acquisitions.max() ?? 0)
                benchmark.measurement(Metric.overlaps, result.overlaps)
                for handOver in result.handOvers {
                    benchmark.measurement(Metric.handOver, Int(handOver / .microseconds(1)))
                }
                guard result.overlaps == 0 else {
                    throw HarnessError("mutual exclusion broken: \(result.overlaps) overlapping holders in one window")
                }
                let stale = try await rig.cluster.holders(of: key)
                guard stale == 0 else {
                    throw HarnessError("\(stale) server(s) still hold \(key) after every contender released")
                }
            } setup: {
                try await rig.start(warmUpKey: key, ttl: ttl)
            } teardown: {
                await rig.stop()
            }
        }
    }
}
