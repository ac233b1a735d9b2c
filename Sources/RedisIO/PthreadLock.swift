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
package final class PthreadLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    package init(_ value: Value) {
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
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
