import RedisIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learns, on a dedicated thread, when a command's whole tree is gone, and hands the ending to any
/// number of waiting tasks.
final class GroupWatch: Sendable {
    /// How the command ended, and whether its guard killed it at the lease deadline.
    struct Ending: Sendable {
        var termination: Termination
        var leaseExpired: Bool
    }

    private struct State {
        var ending: Ending?
        var waiters: [CheckedContinuation<Ending, Never>] = []
    }

    private let state = PthreadLock(State())

    /// The ending, once the whole tree is gone; nil while any process of it remains.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Suspends until the whole tree is gone (not cancellable: the tree is what it is).
    func wait() async -> Ending {
        if let ending { return ending }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Ending? in
                if let ending = state.ending { return ending }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Blocks the calling (dedicated) thread: reaps the guard (which exits only when no process of
    /// the command's tree is left), then closes its channel and resumes every waiter.
    func watch(guardProcess: pid_t, channel: GuardChannel) {
        Self.blockAllSignals()
        let termination = Self.reap(guardProcess)
        finish(Ending(termination: termination, leaseExpired: channel.closeAfterGuardExit()))
    }

    private func finish(_ ending: Ending) {
        let waiters = state.withLock { state in
            state.ending = ending
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: ending) }
    }

    /// Waits for the guard, which exits the way the command did. If something else in this process
    /// reaped it first (`ECHILD`), its status is unknown and reads as exit code 255.
    static func reap(_ guardProcess: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(guardProcess, &status, 0) < 0 {
            if errno != EINTR { return .exited(255) }
        }
        return Termination(waitStatus: status)
    }

    /// Keeps process-directed signals (TERM, INT, HUP, CHLD...) away from this thread.
    static func blockAllSignals() {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}
