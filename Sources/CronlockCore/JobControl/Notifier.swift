import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `--notify CMD`: a command run through `/bin/sh -c` after a run, with the run's facts in its
/// environment (also `cronlock-web --notify-late`, with a late job's). It is bounded by a timeout
/// and never changes the run's exit code or record.
package struct NotifyPlan: Sendable {
    /// When to notify.
    package enum When: String, Sendable, CaseIterable {
        /// Only when the outcome is not `ok`.
        case failure
        /// When the outcome is not `ok`, or the run took the lock without every server.
        case degraded
        /// After every run that took the lock.
        case always
        /// When the outcome turns from `ok` (or no run yet) to anything else, or back to `ok`.
        case change
    }

    var command: String
    var when: When
    var timeout: Duration
    /// The option that gave the command, as its error messages name it.
    var option: String

    package init(command: String, when: When, timeout: Duration, option: String = "--notify") {
        self.command = command
        self.when = when
        self.timeout = timeout
        self.option = option
    }

    /// Whether a run that ended as `ending`, after one that ended with `previous` (nil: none), notifies.
    func applies(to ending: RunRecord.Ending, previous: RunOutcome?) -> Bool {
        switch when {
        case .always: true
        case .failure: ending.outcome != .ok
        case .degraded: ending.outcome != .ok || !ending.degraded.isEmpty
        case .change: (ending.outcome == .ok) != ((previous ?? .ok) == .ok)
        }
    }

    /// Runs the notify command with `facts` added to this process's environment (less its secrets); logs (as errors,
    /// so cron mails them) a command that cannot start, fails or outlives `timeout`.
    package func run(facts: [String: String], logger: Logger) async {
        let command: RunningCommand
        do {
            command = try RunningCommand.start(["/bin/sh", "-c", self.command], environment: ProcessEnvironment.forCommand(adding: facts))
        } catch {
            CronlockMain.printError("\(option) could not start: \(error)")
            return
        }
        let finished: Termination? = await withTaskGroup(of: Termination?.self) { group in
            group.addTask { await command.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            // The wait for the command cannot be cancelled: end the command so the group can finish.
            if first == nil { _ = await command.stop(grace: .seconds(1)) }
            group.cancelAll()
            return first
        }
        guard let finished else {
            CronlockMain.printError("\(option) command ran past its \(timeout) timeout and was stopped")
            return
        }
        if finished.shellExitCode != 0 {
            CronlockMain.printError("\(option) command failed (exit \(finished.shellExitCode))")
        } else {
            logger.debug("cronlock notified", metadata: ["cronlock.notify": "\(self.command)"])
        }
    }
}
