#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached POSIX thread that runs `body` once: for work that blocks (the event loop's
/// `poll`, name resolution, cronlock's `waitpid`) and so must never run on Swift's cooperative pool.
/// Package-visible so cronlock's process control shares it.
package enum DetachedThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Returns false when the system refused to create a thread.
    package static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { argument in
            #if canImport(Glibc)
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            #else
            let box = Unmanaged<Box>.fromOpaque(argument).takeRetainedValue()
            #endif
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            return false
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
        return true
    }
}
