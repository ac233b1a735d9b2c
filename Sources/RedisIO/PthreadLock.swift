#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`: the package's one lock (the library, cronlock and the dashboard).
///
/// Used instead of `Synchronization.Mutex`, whose atomics live inside the precompiled
/// Synchronization library, where ThreadSanitizer cannot see them, so every access it guards is
/// reported as a race; `pthread_mutex` is intercepted by the sanitizer, which keeps
/// `--sanitize=thread` runs meaningful. (Loop-confined state needs no lock: see `LoopThread`.)
///
/// Public, unlike the rest of this internal target, only so that `withLock` is inlined into its
/// callers: Swift does not serialize a `package` declaration's `@inlinable` body, and the
/// unspecialized generic call cost more than the lock on the event loop's hot path.
public final class PthreadLock<Value>: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
