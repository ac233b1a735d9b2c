import Foundation
import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// Regressions for library bugs the fault suite found.
@Suite("Library bugs found by the fault suite", needsRedis, .load(.timed))
struct LibraryBugTests {
    /// withLock's keeper used to await an extension round even when that round's per-server
    /// timeout reached past the lock's validity deadline: with a majority stopped, the round ran
    /// for the whole `serverTimeout`, and only then did the keeper see that validity had passed,
    /// so the body ran on (~150 ms here) without a valid lock. Extension rounds are now bounded by
    /// the validity left, and a body that outlives validity makes `withLock` throw `.lockLost`.
    ///
    /// Setup: TTL 1 s, `serverTimeout` 800 ms (accepted: less than the TTL); the majority stops as
    /// the body starts; the first extension starts at TTL/3.
    @Test func withLockCancelsTheBodyAtTheValidityDeadline() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        defer { cluster.stopAll() }
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.tuning.serverTimeout = .milliseconds(800)
        let client = try RedLockClient(configuration: configuration)
        let observed = CancellationTime()
        var thrown: RedLockError?
        do {
            _ = try await client.withLock("bug:keeper", ttl: .seconds(1)) { lock in
                observed.validUntil = lock.validUntil
                cluster.servers.prefix(3).forEach { $0.pause() }
                while !Task.isCancelled, ContinuousClock.now < lock.validUntil + .seconds(3) {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                observed.cancelledAt = ContinuousClock.now
            }
        } catch let error as RedLockError {
            thrown = error
        }
        cluster.servers.forEach { $0.resume() }
        await client.shutdown()
        let late = try #require(observed.cancelledAt) - (try #require(observed.validUntil))
        #expect(late < .milliseconds(50).scaled, "the body ran \(late) past the lock's validity before it was cancelled")
        #expect(thrown?.code == .lockLost, "\(String(describing: thrown))")
    }
}

/// When the body saw its cancellation, and the lock's deadline.
private final class CancellationTime: @unchecked Sendable {
    private let lock = NSLock()
    private var _validUntil: ContinuousClock.Instant?
    private var _cancelledAt: ContinuousClock.Instant?
    var validUntil: ContinuousClock.Instant? {
        get { lock.withLock { _validUntil } }
        set { lock.withLock { _validUntil = newValue } }
    }
    var cancelledAt: ContinuousClock.Instant? {
        get { lock.withLock { _cancelledAt } }
        set { lock.withLock { _cancelledAt = newValue } }
    }
}
