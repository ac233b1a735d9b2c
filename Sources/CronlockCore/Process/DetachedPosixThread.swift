#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached POSIX thread that runs a body once: for work that blocks (`waitpid`,
/// `sigwait`) and so must never run on Swift's cooperative thread pool.
enum DetachedPosixThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Returns false when the system refused to create a thread (`body` then never runs).
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { argument in
            #if canImport(Glibc)
            Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
            #else
            Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
            #endif
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
