#if canImport(Glibc)
import Glibc
#endif

/// How a run that took the lock ends, decided from what happened: the outcome it records, the exit
/// code cronlock returns, and the one error line it prints (if any). A value, so that every
/// combination is unit-tested without a process.
struct RunConclusion: Equatable, Sendable {
    /// What happened, as far as the conclusion cares.
    enum Happening: Equatable, Sendable {
        /// A signal came while the lock was being taken: the command never started.
        case notStarted(signal: Int32?)
        /// The command could not be started; `signal` if one came while it was being started.
        case spawnFailed(exitCode: Int32, message: String, signal: Int32?)
        /// The command ran and its process group is gone.
        case ended(CommandEnd)
    }

    /// How a command that ran ended, and what else happened meanwhile.
    struct CommandEnd: Equatable, Sendable {
        var command: String
        var termination: Termination
        /// The guard killed the tree at the lock's deadline (cronlock did not renew in time).
        var leaseExpired = false
        var signal: Int32?
        var stop: StopRequest?
        var timedOut = false
        /// The lock was lost (the run's task was cancelled) and the group killed.
        var lockLost = false
        /// The output matched `--fail-pattern` (only asked when the command exited 0).
        var matchedFailPattern = false
    }

    var outcome: RunOutcome
    var exitCode: Int32
    /// The line to print on stderr, if any.
    var error: String?

    init(outcome: RunOutcome, exitCode: Int32, error: String? = nil) {
        self.outcome = outcome
        self.exitCode = exitCode
        self.error = error
    }

    /// The conclusion of `happening`. Precedence: a lease that expired, a signal to cronlock, a
    /// remote stop, `--timeout`, a lost lock, then the command's own status and `--fail-pattern`.
    init(_ happening: Happening) {
        switch happening {
        case .notStarted(let signal):
            self.init(outcome: .signal, exitCode: CronlockExit.signaled(signal ?? SIGTERM))
        case .spawnFailed(let code, let message, let signal):
            // A signal that came while it was being started ends the run like any other signal.
            self.init(outcome: signal == nil ? .failed : .signal, exitCode: signal.map(CronlockExit.signaled) ?? code, error: message)
        case .ended(let end):
            self.init(end)
        }
    }

    private init(_ end: CommandEnd) {
        if end.leaseExpired {
            // withLock reports the loss after the release.
            self.init(outcome: .lost, exitCode: CronlockExit.lockLost)
        } else if let signal = end.signal {
            self.init(outcome: .signal, exitCode: CronlockExit.signaled(signal))
        } else if let stop = end.stop {
            let reason = stop.reason.isEmpty ? "" : ": \(stop.reason)"
            self.init(outcome: .stopped, exitCode: CronlockExit.stopped, error: "\(end.command) was stopped by \(stop.by)\(reason)")
        } else if end.timedOut {
            self.init(outcome: .timeout, exitCode: CronlockExit.timedOut, error: "\(end.command) ran past --timeout and was stopped")
        } else if end.lockLost {
            self.init(outcome: .lost, exitCode: CronlockExit.lockLost)
        } else if case .signaled = end.termination {
            self.init(outcome: .signal, exitCode: end.termination.shellExitCode)
        } else if end.termination != .exited(0) {
            self.init(outcome: .failed, exitCode: end.termination.shellExitCode)
        } else if end.matchedFailPattern {
            self.init(outcome: .failed, exitCode: CronlockExit.failedByPattern, error: "the output of \(end.command) matched --fail-pattern")
        } else {
            self.init(outcome: .ok, exitCode: 0)
        }
    }
}
