/// Whether a failed acquisition round is retried, and after how long: split votes and unreachable
/// servers are retried up to `attempts` times after a jittered delay; a waiting call also retries
/// while another holder has the lock, until its wait runs out.
struct RetryPolicy: Sendable {
    /// What to do after a failed round.
    enum Decision: Hashable, Sendable {
        /// Throw the round's error.
        case giveUp
        /// Try again after `delay`; with `listenForRelease`, a release notice ends the pause early.
        case retry(after: Duration, listenForRelease: Bool)
    }

    /// Rounds a call may make for causes that may pass by themselves (at least 1).
    var attempts: Int
    /// The mean pause between rounds; each is drawn from [½, 1½) of it.
    var delay: Duration
    /// Whether the call waits while another holder has the lock, and for how long.
    var wait: LockWait
    /// When the call's wait ends (start + `wait`'s limit), if it has one.
    var waitDeadline: ContinuousClock.Instant?
    /// Whether waiters hear of releases (`RedLockConfiguration.notifiesWaitersOnRelease`).
    var listensForRelease: Bool

    /// The decision after round `attempt` (1-based) failed with `code`; `mayPass` says whether the
    /// cause may pass by itself (see `AcquireRoundMachine.Failure.mayPass`).
    func next(after code: RedLockError.Code, mayPass: Bool, attempt: Int, now: ContinuousClock.Instant,
              using random: inout some RandomNumberGenerator) -> Decision {
        guard code == .heldElsewhere || code == .noQuorum else { return .giveUp }
        let jittered = delay * Double.random(in: 0.5..<1.5, using: &random)
        let listen = wait.waits && listensForRelease && code == .heldElsewhere
        if mayPass, attempt < attempts { return .retry(after: jittered, listenForRelease: listen) }
        guard wait.waits, mayPass || code == .heldElsewhere else { return .giveUp }
        guard let waitDeadline else { return .retry(after: jittered, listenForRelease: listen) }
        let left = waitDeadline - now
        return left > .zero ? .retry(after: min(jittered, left), listenForRelease: listen) : .giveUp
    }
}
