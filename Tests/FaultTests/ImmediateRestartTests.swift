import Foundation
import RedLock
import RedisTestSupport
import TestLoad
import Testing

/// Why a crashed server without persistence must not vote again at once: one that comes back
/// empty can grant a lock that is still held. The client's restart guard (on by default) withholds
/// such a server's vote; with the guard off, only restarting it after the longest TTL prevents the
/// overlap. (Servers here run without persistence.)
@Suite("Immediate restart: the overlap the restart guard and the delayed-restart rule prevent", needsRedis, .load(.timed))
struct ImmediateRestartTests {
    /// The exact interleaving, with default settings: the holder has A, B, C of five (D and E are
    /// down when it acquires); D and E come back; A is killed and restarted at once, empty. A second
    /// client does not get A, D and E: the three restarted without persistence within the TTL, so
    /// their grants do not count, and its error names the restart.
    @Test func withTheRestartGuardARestartedMasterDoesNotLetASecondHolderIn() async throws {
        let cluster = try await Self.agedCluster()
        defer { cluster.stopAll() }
        let (first, observer) = try await holdOnABC(cluster, restartGuard: .lockTTL)
        cluster.servers[0].stop()
        try await cluster.servers[0].restart()
        var configuration = try Self.configuration(cluster, restartGuard: .lockTTL)
        configuration.tuning.retryAttempts = 1
        let client = try RedLockClient(configuration: configuration)
        let error = await #expect(throws: RedLockError.self) { try await client.acquire(Self.key, ttl: Self.ttl) }
        await client.shutdown()
        // The round is decided by its first three answers: B and C (the first holder's) and at
        // least one of the restarted A, D, E, whose grants do not count.
        let restarted = [0, 3, 4].map { cluster.servers[$0].url }
        let heard = error?.servers.filter { restarted.contains($0.server.description) && $0.outcome.kind != .notAwaited } ?? []
        #expect(!heard.isEmpty && heard.allSatisfy { $0.outcome.kind == .voteWithheld },
                "the restarted masters' grants did not count: \(String(describing: error))")
        #expect(error?.description.contains("without persistence") == true, "\(String(describing: error))")
        #expect(observer.overlaps().isEmpty)
        #expect(first.validUntil > .now, "the first lock was still valid when the second client was refused")
    }

    /// The same interleaving with the guard turned off: the second client gets A, D and E — a
    /// majority — while the first lock is still valid.
    @Test func withTheGuardOffRestartingAtOnceLetsASecondHolderInWhileTheFirstIsValid() async throws {
        let cluster = try await RedisCluster.start(count: 5, persistent: false)
        defer { cluster.stopAll() }
        let (first, observer) = try await holdOnABC(cluster, restartGuard: .disabled)
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

    /// With the guard off and the delayed-restart rule kept: A restarts only after the TTL. While A
    /// is down the second client cannot get a majority; once A is back, the first lock has expired.
    @Test func withTheGuardOffRestartingAfterTheTTLKeepsTheSecondHolderOut() async throws {
        let cluster = try await RedisCluster.start(count: 5, persistent: false)
        defer { cluster.stopAll() }
        let (first, observer) = try await holdOnABC(cluster, restartGuard: .disabled)
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

    /// The randomized variant: the safety check with every restart at once, and the clients'
    /// restart guard on (as wide as the longest key life of the run, since library and cronlock
    /// contenders share keys): no overlap. `REDLOCK_FAULT_IMMEDIATE_CYCLES` sets the cycles
    /// (default 250, of critical sections up to 250 ms).
    @Test(.load(.alone)) func randomizedImmediateRestartsWithTheGuardOnShowNoOverlap() async throws {
        let cycles = ProcessInfo.processInfo.environment["REDLOCK_FAULT_IMMEDIATE_CYCLES"].flatMap(Int.init) ?? 250
        var run = SafetyRun(seed: FaultSettings.seed, cycles: cycles, immediateRestart: true)
        run.cyclesVariable = "REDLOCK_FAULT_IMMEDIATE_CYCLES"
        // Long critical sections, so that a holder is still inside when a server it needed
        // comes back empty.
        run.maximumHold = .milliseconds(250)
        let report = try await run.run()
        print(report)
        #expect(report.finishedInTime)
        #expect(report.faults[.killRestartAtOnce, default: 0] > 0)
        #expect(report.overlaps.isEmpty, "seed \(report.seed): \(report.overlaps.prefix(3))")
    }

    static let ttl = Duration.seconds(2)

    /// Kills D and E, has a first client take the lock (on A, B, C), records its critical section
    /// (valid until its deadline), and brings D and E back empty.
    private func holdOnABC(_ cluster: RedisCluster, restartGuard: RestartGuard) async throws -> (Lock, CriticalSectionObserver) {
        let observer = CriticalSectionObserver()
        cluster.servers[3].stop()
        cluster.servers[4].stop()
        let client = try RedLockClient(configuration: Self.configuration(cluster, restartGuard: restartGuard))
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
        let client = try RedLockClient(configuration: Self.configuration(cluster, restartGuard: .disabled))
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

    private static func configuration(_ cluster: RedisCluster, restartGuard: RestartGuard) throws -> RedLockConfiguration {
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.tuning.retryAttempts = 1
        configuration.tuning.serverTimeout = .milliseconds(200)
        configuration.restartGuard = restartGuard
        return configuration
    }

    /// Five servers without persistence, up for longer than the TTL, so that the guard lets the
    /// first holder in.
    private static func agedCluster() async throws -> RedisCluster {
        let cluster = try await RedisCluster.start(count: 5, persistent: false)
        try await Task.sleep(for: ttl + .milliseconds(2200))  // the guard reads uptime_in_seconds − 1 s
        return cluster
    }

    static let key = "fault:immediate-restart"
}
