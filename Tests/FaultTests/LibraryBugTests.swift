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
    ///
    /// Lateness is measured to the moment `withLock` cancelled the body (its cancellation handler),
    /// not to when the body next ran. On a loaded machine the cooperative pool may wake a task late
    /// (the keeper's deadline sleep and the task group's resumption are such wake-ups), so the limit
    /// grows by twice the worst wake-up delay the body's own 5 ms sleeps saw around the deadline.
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
                await withTaskCancellationHandler {
                    while !Task.isCancelled, ContinuousClock.now < lock.validUntil + .seconds(3) {
                        let asleep = ContinuousClock.now
                        try? await Task.sleep(for: .milliseconds(5))
                        observed.noteWakeUp(asleepSince: asleep, for: .milliseconds(5))
                    }
                } onCancel: {
                    observed.cancelledAt = .now
                }
            }
        } catch let error as RedLockError {
            thrown = error
        }
        cluster.servers.forEach { $0.resume() }
        await client.shutdown()
        let validUntil = try #require(observed.validUntil)
        let cancelledAt = try #require(observed.cancelledAt, "the body was never cancelled")
        let late = cancelledAt - validUntil
        let stall = observed.worstWakeUpDelay(endingAfter: validUntil - .milliseconds(100))
        #expect(late < .milliseconds(50).scaled + stall * 2,
                "the body was cancelled \(late) past the lock's validity (worst wake-up delay of the pool meanwhile: \(stall))")
        #expect(thrown?.code == .lockLost, "\(String(describing: thrown))")
    }
}

/// When the lock's deadline was, when `withLock` cancelled the body, and how late the body's own
/// sleeps woke (the cooperative pool's delay on a loaded machine).
private final class CancellationTime: @unchecked Sendable {
    private let lock = NSLock()
    private var _validUntil: ContinuousClock.Instant?
    private var _cancelledAt: ContinuousClock.Instant?
    /// (woke at, how much later than asked) for each of the body's sleeps.
    private var wakeUps: [(at: ContinuousClock.Instant, delay: Duration)] = []

    var validUntil: ContinuousClock.Instant? {
        get { lock.withLock { _validUntil } }
        set { lock.withLock { _validUntil = newValue } }
    }
    var cancelledAt: ContinuousClock.Instant? {
        get { lock.withLock { _cancelledAt } }
        set { lock.withLock { _cancelledAt = newValue } }
    }

    /// Records a sleep of `duration` begun at `asleep` that has just ended.
    func noteWakeUp(asleepSince asleep: ContinuousClock.Instant, for duration: Duration) {
        let now = ContinuousClock.now
        lock.withLock { wakeUps.append((now, max(.zero, now - asleep - duration))) }
    }

    /// The longest delay of a wake-up after `instant` (zero when none).
    func worstWakeUpDelay(endingAfter instant: ContinuousClock.Instant) -> Duration {
        lock.withLock { wakeUps.filter { $0.at > instant }.map(\.delay).max() ?? .zero }
    }
}
