#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread a loop-confined object belongs to: the one that created it (the event loop's, for
/// everything the reactor owns). `preconditionOnLoopThread()` traps when the object is touched from
/// any other thread, as RediStack's `preconditionInEventLoop()` does; it is an `assert`, so release
/// builds do not evaluate it.
struct LoopThread {
    private let owner = pthread_self()

    /// Traps (in debug builds) unless called on the owning thread.
    func preconditionOnLoopThread(file: StaticString = #fileID, line: UInt = #line) {
        assert(pthread_equal(pthread_self(), owner) != 0, "loop-confined state touched off the I/O thread", file: file, line: line)
    }
}
