import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What cronlock's signal thread and its run share: the first relayed signal, the running
/// command (to forward signals to), and the run's task (to cancel while no command runs yet).
public final class SignalState: Sendable {
    private struct State {
        var received: Int32?
        var command: RunningCommand?
        var run: Task<Int32, Never>?
    }

    private let state = Mutex(State())

    /// The process-wide instance the signal thread reports to.
    public static let shared = SignalState()

    /// The first signal cronlock received, if any.
    public var received: Int32? { state.withLock { $0.received } }

    /// Called on the signal thread: forward to the command's process group, or, before the
    /// command started, cancel the run (which then releases whatever it acquired).
    public func deliver(_ signal: Int32) {
        let (command, run) = state.withLock { state in
            if state.received == nil { state.received = signal }
            return (state.command, state.run)
        }
        if let command {
            command.signalGroup(signal)
        } else if let run {
            run.cancel()
        } else {
            exit(CronlockExit.signaled(signal))  // status or demo: nothing to hand over; demo's servers die with their guards
        }
    }

    func runStarted(_ run: Task<Int32, Never>) {
        let cancelNow = state.withLock { state in
            state.run = run
            return state.received != nil
        }
        if cancelNow { run.cancel() }
    }

    /// Records the running command; a signal that arrived while it was being started is forwarded now.
    func commandStarted(_ command: RunningCommand) {
        let pending = state.withLock { state in
            state.command = command
            return state.received
        }
        if let pending { command.signalGroup(pending) }
    }

    func commandFinished() {
        state.withLock { $0.command = nil }
    }
}
