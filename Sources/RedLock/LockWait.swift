/// How long `acquire` may wait for a lock that another holder has.
public enum LockWait: Sendable, Hashable {
    /// Do not wait: fail with `.heldElsewhere` when another holder has a majority. Split votes and
    /// unreachable servers are still retried (`RedLockConfiguration.Tuning.retryAttempts`).
    case noWait
    /// Keep trying until the lock is acquired or the task is cancelled.
    case forever
    /// Keep trying for up to this long, then fail with the last round's reason.
    case upTo(Duration)

    /// The longest wait, or `nil` for no limit (`.forever`) or no wait at all.
    var limit: Duration? {
        if case .upTo(let duration) = self { duration } else { nil }
    }

    /// Whether the call waits for another holder at all.
    var waits: Bool { self != .noWait }
}
