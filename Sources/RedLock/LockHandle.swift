import Synchronization

/// The lock a `withLock` body holds, kept current: each extension moves `validUntil` forward, so
/// the body can check `remainingValidity` before a side effect and get today's answer, not the
/// one from acquisition. `Sendable`: pass it to the tasks the body starts.
public final class LockHandle: Sendable, CustomStringConvertible {
    private let current: Mutex<Lock>

    init(_ lock: Lock) {
        current = Mutex(lock)
    }

    /// The lock as last acquired or extended.
    public var lock: Lock { current.withLock { $0 } }
    /// The locked resource (the Redis key).
    public var resource: String { lock.resource }
    /// The holder token: unique to this acquisition; for a check-and-set at the protected resource.
    public var token: String { lock.token }
    /// When the lock stops being safe to rely on, as of the last extension.
    public var validUntil: ContinuousClock.Instant { lock.validUntil }
    /// The validity left now; zero or negative once the lock may be held by someone else.
    public var remainingValidity: Duration { validUntil - .now }

    /// Like `Lock`'s: the token stays out.
    public var description: String { lock.description }

    /// Records an extension.
    func update(_ lock: Lock) {
        current.withLock { $0 = lock }
    }
}
