/// `--retry N --retry-delay D`: how often a failed run is tried again under the same lock, and how
/// long cronlock waits (still holding and renewing the lock) before each new attempt.
struct RetryPolicy: Sendable, Equatable {
    /// The longest wait between two attempts, whatever the backoff: 10 minutes.
    static let maximumDelay = Duration.seconds(600)
    /// The most retries `--retry` accepts.
    static let maximumRetries = 100

    /// Attempts after the first one (0: a failed run is not retried).
    var retries: Int
    /// The wait before the first retry; doubled before each further one, up to `maximumDelay`.
    var delay: Duration

    /// Whether attempt number `attempt` (from 1), which ended with `outcome`, is tried again: only
    /// a failure of the command itself (non-zero exit, `--fail-pattern`, `--timeout`) is; a lost
    /// lock, a stop or a signal never is.
    func retries(after outcome: RunOutcome, attempt: Int) -> Bool {
        attempt <= retries && (outcome == .failed || outcome == .timeout)
    }

    /// The wait before attempt number `attempt` (2 or more): `delay` × 2^(attempt − 2), at most
    /// `maximumDelay`.
    func delay(before attempt: Int) -> Duration {
        var wait = delay
        for _ in 0..<max(0, attempt - 2) where wait < Self.maximumDelay { wait *= 2 }
        return min(wait, Self.maximumDelay)
    }
}
