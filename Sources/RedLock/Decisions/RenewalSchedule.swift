/// When `withLock` extends its lock, and when the lock counts as lost: extend every TTL/3; after a
/// failed extension retry every TTL/10 while validity remains; lost when validity passes before an
/// extension confirmed it, or when a majority says the key is gone. Time is passed in.
struct RenewalSchedule: Hashable, Sendable {
    /// What the keeper does when it wakes.
    enum Step: Hashable, Sendable {
        /// Send an extension.
        case extend
        /// The lock's validity has passed: it is lost.
        case lost
    }

    private(set) var validUntil: ContinuousClock.Instant
    private(set) var nextExtension: ContinuousClock.Instant
    private var ttl: Duration

    /// The schedule of a lock of `ttl`, valid until `validUntil`, acquired (or extended) at `now`.
    init(ttl: Duration, validUntil: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        self.ttl = ttl
        self.validUntil = validUntil
        nextExtension = now + ttl / 3
    }

    /// When the keeper must wake next: the next extension, or the end of validity if sooner.
    var wakeAt: ContinuousClock.Instant { min(nextExtension, validUntil) }

    /// What to do on waking at `now`.
    func woke(at now: ContinuousClock.Instant) -> Step {
        now >= validUntil ? .lost : .extend
    }

    /// An extension confirmed at `now` a lock of `ttl`, now valid until `validUntil`.
    mutating func extended(ttl: Duration, validUntil: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        self.ttl = ttl
        self.validUntil = validUntil
        nextExtension = now + ttl / 3
    }

    /// An extension failed at `now` with `code`: returns `.lost` when a majority said the key is
    /// gone (`.notHeld`), else schedules a retry in TTL/10 and returns `.extend`.
    mutating func extensionFailed(_ code: RedLockError.Code, now: ContinuousClock.Instant) -> Step {
        guard code != .notHeld else { return .lost }
        nextExtension = now + ttl / 10
        return .extend
    }
}
