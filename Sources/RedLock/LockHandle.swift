import RedisIO

/// The lock a `withLock` body holds, kept current: each extension moves `validUntil` forward, so
/// the body can check `remainingValidity` before a side effect and get today's answer, not the
/// one from acquisition. `Sendable`: pass it to the tasks the body starts.
public final class LockHandle: Sendable, CustomStringConvertible {
    private struct State {
        var lock: Lock
        var observers: [@Sendable (Lock) -> Void] = []
    }

    private let current: PthreadLock<State>

    init(_ lock: Lock) {
        current = PthreadLock(State(lock: lock))
    }

    /// The lock as last acquired or extended.
    public var lock: Lock { current.withLock { $0.lock } }
    /// The locked resource (the Redis key).
    public var resource: String { lock.resource }
    /// The holder token: unique to this acquisition; for a check-and-set at the protected resource.
    public var token: String { lock.token }
    /// The acquisition's fencing token (see `Lock.fencingToken`); extensions keep it. Nil with
    /// fencing off.
    public var fencingToken: UInt64? { lock.fencingToken }
    /// When the lock stops being safe to rely on, as of the last extension.
    public var validUntil: ContinuousClock.Instant { lock.validUntil }
    /// The validity left now; zero or negative once the lock may be held by someone else.
    public var remainingValidity: Duration { validUntil - .now }

    /// Like `Lock`'s: the token stays out.
    public var description: String { lock.description }

    /// Calls `observer` with the lock after each extension, on the task that extended it, as soon
    /// as it is confirmed (e.g. to move a watchdog's deadline to the new `validUntil`). Keep it short.
    public func onExtension(_ observer: @escaping @Sendable (Lock) -> Void) {
        current.withLock { $0.observers.append(observer) }
    }

    /// Records an extension and tells the observers.
    func update(_ lock: Lock) {
        let observers = current.withLock { state in
            state.lock = lock
            return state.observers
        }
        for observer in observers { observer(lock) }
    }
}
