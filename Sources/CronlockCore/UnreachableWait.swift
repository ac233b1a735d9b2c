import RedLock

/// `--wait` while no majority of servers can be reached: how each attempt may wait, when to warn,
/// how long to pause before the next attempt, and when to give up (`--wait-unreachable`).
///
/// A value fed with each attempt's result and the time; the run performs what it decides. The
/// first attempt does not wait (so that unreachable servers are found at once); after one that
/// found the lock held, attempts wait for its release in slices of at most `longestSlice`, so that
/// servers lost meanwhile are noticed. While no majority answers, attempts do not wait, and the
/// pauses between them double from `firstPause` to `longestPause`; the warning is due at once and
/// then after intervals that double from `firstWarningInterval` to `longestWarningInterval`.
struct UnreachableWait: Sendable {
    /// Give up once no majority has answered for this long; `nil`: never.
    let limit: Duration?
    /// When the current stretch without a majority began (its first failed attempt's end).
    private(set) var since: ContinuousClock.Instant?
    private var failedAttempts = 0
    private var warnings = 0
    private var nextWarning: ContinuousClock.Instant?
    private var foundHeld = false

    static let longestSlice = Duration.seconds(60)
    static let firstPause = Duration.milliseconds(250)
    static let longestPause = Duration.seconds(15)
    static let firstWarningInterval = Duration.seconds(10)
    static let longestWarningInterval = Duration.seconds(600)

    init(limit: Duration?) {
        self.limit = limit
    }

    /// What to do after an attempt that found no majority.
    enum Decision: Equatable {
        /// The servers have been unreachable for `limit`: exit 69.
        case giveUp
        /// Pause this long, then try again; warn first when `warn`.
        case retry(after: Duration, warn: Bool)
    }

    /// How the next attempt may wait for a held lock, with the whole `--wait` ending at `deadline`
    /// (`nil`: forever).
    func nextAttempt(now: ContinuousClock.Instant, deadline: ContinuousClock.Instant?) -> LockWait {
        guard foundHeld, since == nil else { return .noWait }
        var slice = min(Self.longestSlice, limit ?? Self.longestSlice)
        if let deadline { slice = min(slice, deadline - now) }
        return slice > .zero ? .upTo(slice) : .noWait
    }

    /// The attempt found the lock held elsewhere: the servers answer.
    mutating func held() {
        foundHeld = true
        since = nil
        failedAttempts = 0
        warnings = 0
        nextWarning = nil
    }

    /// The attempt found no majority, at `now`.
    mutating func unreachable(now: ContinuousClock.Instant) -> Decision {
        let start = since ?? now
        since = start
        failedAttempts += 1
        if let limit, now - start >= limit { return .giveUp }
        let warn = nextWarning.map { now >= $0 } ?? true
        if warn {
            nextWarning = now + min(Self.longestWarningInterval, Self.firstWarningInterval * (1 << min(warnings, 20)))
            warnings += 1
        }
        var pause = min(Self.longestPause, Self.firstPause * (1 << min(failedAttempts - 1, 20)))
        if let limit { pause = min(pause, start + limit - now) }
        return .retry(after: pause, warn: warn)
    }
}
