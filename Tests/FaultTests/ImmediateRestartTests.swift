import Foundation
import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// Why Redlock restarts a crashed server only after the longest TTL (servers run without
/// persistence): a server that comes back at once, empty, can grant a lock that is still held.
@Suite("Immediate restart: the overlap the delayed-restart rule prevents", needsRedis, .load(.timed))
struct ImmediateRestartTests {
    /// The exact interleaving: the holder has A, B, C of five (D and E are down when it acquires);
    /// D and E come back; A is killed and restarted at once, empty; a second client then gets
    /// A, D and E — a majority — while the first lock is still valid.
    @Test func restartingAtOnceLetsASecondHolderInWhileTheFirstIsValid() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        defer { cluster.stopAll() }
        let (first, observer) = try await holdOnABC(cluster)
        cluster.servers[0].stop()
        try await cluster.servers[0].restart()
        let second = try await acquireAfterRestart(cluster, observer: observer, holder: "second")
        let secondLock = try #require(second, "the second client did not get the lock; the overlap was not reproduced")
        #expect(secondLock.grantedBy.map(\.description).sorted() == [0, 3, 4].map { cluster.servers[$0].url }.sorted())
        let overlaps = observer.overlaps()
        print("immediate restart, constructed: \(overlaps.count) overlap(s): \(overlaps)")
        #expect(overlaps.count == 1, "both held the lock while both believed it valid")
        #expect(first.validUntil > .now, "the first lock was still valid when the second was granted")
    }

    /// The same interleaving with the rule kept: A restarts only after the TTL. While A is down
    /// the second client cannot get a majority; once A is back, the first lock has expired.
    @Test func restartingAfterTheTTLKeepsTheSecondHolderOut() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        defer { cluster.stopAll() }
        let (first, observer) = try await holdOnABC(cluster)
        cluster.servers[0].stop()
        let restartAt = ContinuousClock.now + Self.ttl + .milliseconds(50)
        var refused = 0
        while first.validUntil - .now > .milliseconds(100) {
            if try await acquireAfterRestart(cluster, observer: observer, holder: "early \(refused)") != nil { break }
            refused += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(until: restartAt)
        try await cluster.servers[0].restart()
        let second = try await acquireAfterRestart(cluster, observer: observer, holder: "second")
        #expect(second != nil, "once the first lock expired, the second client gets it")
        #expect(refused > 0)
        #expect(first.validUntil < .now)
        let overlaps = observer.overlaps()
        #expect(overlaps.isEmpty, "\(overlaps)")
    }

    /// The randomized variant: the safety check with every restart at once. Overlaps are reported,
    /// not asserted (whether the schedule hits the interleaving is chance); the constructed test
    /// above is the one that must show it. `REDLOCK_FAULT_IMMEDIATE_CYCLES` sets the cycles
    /// (default 250, of critical sections up to 250 ms).
    @Test(.load(.alone)) func randomizedImmediateRestartsReportTheirOverlaps() async throws {
        let cycles = ProcessInfo.processInfo.environment["REDLOCK_FAULT_IMMEDIATE_CYCLES"].flatMap(Int.init) ?? 250
        var run = SafetyRun(seed: FaultSettings.seed, cycles: cycles, immediateRestart: true)
        // Long critical sections, so that a holder is still inside when a server it needed
        // comes back empty.
        run.maximumHold = .milliseconds(250)
        let report = try await run.run()
        print(report)
        #expect(report.finishedInTime)
        #expect(report.faults[.killRestartAtOnce, default: 0] > 0)
    }

    static let ttl = Duration.seconds(2)

    /// Kills D and E, has a first client take the lock (on A, B, C), records its critical section
    /// (valid until its deadline), and brings D and E back empty.
    private func holdOnABC(_ cluster: RedisCluster) async throws -> (Lock, CriticalSectionObserver) {
        let observer = CriticalSectionObserver()
        cluster.servers[3].stop()
        cluster.servers[4].stop()
        let client = try client(cluster)
        let first = try await client.acquire(Self.key, ttl: Self.ttl)
        await client.shutdown()
        #expect(first.grantedBy.count == 3)
        let start = MonotonicTime.now()
        observer.record(.init(key: Self.key, holder: "first", start: start, end: MonotonicTime.nanoseconds(of: first.validUntil),
                              validUntil: MonotonicTime.nanoseconds(of: first.validUntil)))
        try await cluster.servers[3].restart()
        try await cluster.servers[4].restart()
        return (first, observer)
    }

    /// A fresh client's attempt; its critical section is recorded as lasting to its deadline.
    private func acquireAfterRestart(_ cluster: RedisCluster, observer: CriticalSectionObserver, holder: String) async throws -> Lock? {
        let client = try client(cluster)
        let lock: Lock?
        do {
            lock = try await client.tryAcquire(Self.key, ttl: Self.ttl)
        } catch where error.code == .noQuorum {
            lock = nil
        }
        await client.shutdown()
        if let lock {
            let validUntil = MonotonicTime.nanoseconds(of: lock.validUntil)
            observer.record(.init(key: Self.key, holder: holder, start: MonotonicTime.now(), end: validUntil, validUntil: validUntil))
        }
        return lock
    }

    private func client(_ cluster: RedisCluster) throws -> RedLockClient {
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.retryAttempts = 1
        configuration.serverTimeout = .milliseconds(200)
        return try RedLockClient(configuration: configuration)
    }

    static let key = "fault:immediate-restart"
}
