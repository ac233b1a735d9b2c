import RedisIO

#if canImport(Glibc)
import Glibc
#endif

/// What cronlock's signal thread and its run share: the first relayed signal, the running
/// command (to forward signals to), and the run's task (to cancel while no command runs yet).
package final class SignalState: Sendable {
    private struct State {
        var received: Int32?
        var command: RunningCommand?
        /// Between `commandStarting()` and `commandStarted(_:)`: the command may be running already.
        var starting = false
        var run: Task<Int32, Never>?
    }

    private let state = PthreadLock(State())

    /// The process-wide instance the signal thread reports to.
    package static let shared = SignalState()

    /// The first signal cronlock received, if any.
    package var received: Int32? { state.withLock { $0.received } }

    /// Called on the signal thread: forward to the command's process group; while it is being
    /// started, leave the signal for `commandStarted(_:)` to forward; before that, cancel the run
    /// (which then releases whatever it acquired).
    package func deliver(_ signal: Int32) {
        let (command, starting, run) = state.withLock { state in
            if state.received == nil { state.received = signal }
            return (state.command, state.starting, state.run)
        }
        if let command {
            command.signalTree(signal)
        } else if starting {
            return  // cancelling now would SIGKILL a command that may already run: it gets the signal
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

    /// Called just before the command is started: false when a signal came first (the command
    /// must not start); otherwise, from now on a signal waits for `commandStarted(_:)` to be
    /// forwarded to the command, as every later one is, instead of cancelling the run.
    func commandStarting() -> Bool {
        state.withLock { state in
            guard state.received == nil else { return false }
            state.starting = true
            return true
        }
    }

    /// Records the running command; a signal that arrived while it was being started is forwarded now.
    func commandStarted(_ command: RunningCommand) {
        let pending = state.withLock { state in
            state.command = command
            state.starting = false
            return state.received
        }
        if let pending { command.signalTree(pending) }
    }

    /// The command has ended, or could not be started: signals cancel the run again.
    func commandFinished() {
        state.withLock { state in
            state.command = nil
            state.starting = false
        }
    }
}
