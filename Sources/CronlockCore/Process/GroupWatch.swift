import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learns, on a dedicated thread, when a command's process group is gone, and hands the
/// termination to any number of waiting tasks.
final class GroupWatch: Sendable {
    private struct State {
        var termination: Termination?
        var waiters: [CheckedContinuation<Termination, Never>] = []
    }

    private let state = Mutex(State())

    /// How often the group is probed after the guard has exited.
    static let probeInterval = timespec(tv_sec: 0, tv_nsec: 20_000_000)

    /// The termination, once the whole group is gone; nil while any process of it remains.
    var termination: Termination? { state.withLock { $0.termination } }

    /// Suspends until the whole group is gone (not cancellable: the group is what it is).
    func wait() async -> Termination {
        if let termination { return termination }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Termination? in
                if let termination = state.termination { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Blocks the calling (dedicated) thread: reaps the guard (which exits once the command and
    /// the group's orphans have), waits until no process of `group` remains, then resumes every
    /// waiter.
    func watch(guardProcess: pid_t, group: pid_t) {
        Self.blockAllSignals()
        let termination = Self.reap(guardProcess)
        Self.waitUntilEmpty(group)
        finish(termination)
    }

    private func finish(_ termination: Termination) {
        let waiters = state.withLock { state in
            state.termination = termination
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: termination) }
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

    /// The guard reaps the group's orphans before it exits, so this normally returns at once; it
    /// still probes (`kill(-group, 0)`) for members the guard could not wait for, e.g. children of
    /// a process that left the group.
    private static func waitUntilEmpty(_ group: pid_t) {
        var interval = probeInterval
        while kill(-group, 0) == 0 || errno == EPERM {
            nanosleep(&interval, nil)
            interval = probeInterval
        }
    }

    /// Keeps process-directed signals (TERM, INT, HUP, CHLD...) away from this thread.
    static func blockAllSignals() {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}
