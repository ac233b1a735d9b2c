import RedisTestSupport
import RedLock
import Testing

/// The configured deadlines the liveness tests hold every call to, and how they are measured.
///
/// Budgets are derived from the configuration, not picked as wall-clock numbers: a round waits at
/// most `serverTimeout` for a server; a failed acquisition round may add its clean-up (another
/// round); rounds are repeated up to `retryAttempts` times with a jittered pause of at most 1.5 ×
/// `retryDelay`. The tolerance on top is `REDLOCK_TIME_SCALE` × (150 ms + 25 % of the budget).
enum LivenessBudget {
    static let serverTimeout = Duration.milliseconds(200)
    static let retryAttempts = 2
    static let retryDelay = Duration.milliseconds(50)

    static func configure(_ configuration: inout RedLockConfiguration) {
        configuration.tuning.serverTimeout = serverTimeout
        configuration.tuning.retryAttempts = retryAttempts
        configuration.tuning.retryDelay = retryDelay
    }

    /// One round: every server answered or timed out.
    static var round: Duration { serverTimeout }

    /// `acquire`/`tryAcquire` without waiting: each attempt a round plus its clean-up round.
    static var acquire: Duration { attempts(retryAttempts, roundsEach: 2, timeout: serverTimeout, delay: retryDelay) }

    /// `acquire` waiting up to `wait`: the wait, then the attempt under way and a pause.
    static func acquire(waitingUpTo wait: Duration) -> Duration { wait + serverTimeout * 2 + retryDelay * 1.5 }

    /// Attempts of `roundsEach` rounds with pauses between them.
    static func attempts(_ count: Int, roundsEach: Int, timeout: Duration, delay: Duration) -> Duration {
        timeout * (count * roundsEach) + delay * 1.5 * (count - 1)
    }

    /// The slack allowed on top of `budget`.
    static func tolerance(for budget: Duration) -> Duration {
        (.milliseconds(150) + budget * 0.25).scaled
    }

    /// Runs `body` and checks that it returned by `budget` + tolerance. A call that never
    /// returns fails the test after four times that (and is left behind), instead of hanging the run.
    @discardableResult
    static func expectReturns<T: Sendable>(
        within budget: Duration, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        let limit = budget + tolerance(for: budget)
        let start = ContinuousClock.now
        let outcome = await boundedResult(within: limit * 4, body)
        let elapsed = ContinuousClock.now - start
        print("liveness: \(what) returned in \(elapsed.milliseconds) ms of budget \(budget.milliseconds) ms")
        guard let outcome else {
            Issue.record("\(what) did not return within \(limit * 4) (budget \(budget))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(elapsed <= limit, "\(what) took \(elapsed), budget \(budget) + tolerance \(tolerance(for: budget))",
                sourceLocation: sourceLocation)
        return outcome
    }
}
