import Logging
import RedLock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One cronlock run: take the lock, run the command while renewing it, end with the min-hold, and
/// turn what happened into an exit code.
///
/// The lock is taken before the command starts; it is released (or shortened to the min-hold) only
/// after the command's whole process group is gone. If the lock is lost while the command runs,
/// the group is killed at once (another host may already hold the lock) and the exit code is 79.
public enum CronlockRun {
    /// Everything a run needs, already validated.
    public struct Request: Sendable {
        public var key: String
        public var configuration: RedLockConfiguration
        public var ttl: Duration
        public var wait: WaitText?
        public var minimumHold: Duration
        public var timeout: Duration?
        public var killAfter: Duration
        public var conflictExitCode: Int32
        public var command: [String]
        public var logger: Logger
    }

    /// Runs `request` in a task the signal thread can cancel; returns the exit code.
    public static func execute(_ request: Request, signals: SignalState) async -> Int32 {
        let run = Task { await lockAndRun(request, signals: signals) }
        signals.runStarted(run)
        return await run.value
    }

    private static func lockAndRun(_ request: Request, signals: SignalState) async -> Int32 {
        // A host that cannot run the command must not take (and hold) the lock for the others.
        do {
            try RunningCommand.check(request.command, environment: ProcessEnvironment.current())
        } catch {
            return fail(error.exitCode, "\(error)")
        }
        let client: RedLockClient
        do {
            client = try RedLockClient(configuration: request.configuration)
        } catch {
            return fail(CronlockExit.usage, "\(error)")
        }
        let code = await runUnderLock(request, client: client, signals: signals)
        await client.shutdown()
        return code
    }

    private static func runUnderLock(_ request: Request, client: RedLockClient, signals: SignalState) async -> Int32 {
        let logger = request.logger
        let timedOut = Flag()
        let finished = TerminationBox()
        do {
            let termination = try await client.withLock(
                request.key, ttl: request.ttl, wait: lockWait(request.wait), minimumHold: request.minimumHold, logger: logger
            ) { lock in
                logger.info("cronlock acquired the lock; running the command", metadata: ["cronlock.key": "\(request.key)"])
                let termination = try await runCommand(request, signals: signals, timedOut: timedOut)
                // Cancelled means the lock was lost and the group killed; otherwise it ended by itself.
                if !Task.isCancelled { finished.set(termination) }
                return termination
            }
            if let signal = signals.received { return CronlockExit.signaled(signal) }
            if timedOut.isSet {
                return fail(CronlockExit.timedOut, "\(request.command[0]) ran past --timeout and was stopped")
            }
            logger.info("cronlock command finished", metadata: ["cronlock.key": "\(request.key)", "cronlock.exit": "\(termination.shellExitCode)"])
            return termination.shellExitCode
        } catch let error as RedLockError {
            return exitCode(for: error, request: request, signals: signals, finished: finished.value)
        } catch let error as SpawnFailure {
            return fail(error.exitCode, "\(error)")
        } catch {
            return fail(CronlockExit.noQuorum, "\(error)")
        }
    }

    /// Starts the command and waits for its whole process group, stopping it on timeout or lock loss.
    private static func runCommand(_ request: Request, signals: SignalState, timedOut: Flag) async throws -> Termination {
        // A signal that came while the lock was being taken: do not start at all (the lock is then
        // released at once, without the min-hold, since the job did not run).
        guard signals.received == nil, !Task.isCancelled else { throw CancellationError() }
        let environment = ProcessEnvironment.current(adding: ["CRONLOCK_KEY": request.key])
        let command = try RunningCommand.start(request.command, environment: environment)
        signals.commandStarted(command)
        defer { signals.commandFinished() }
        let deadline = request.timeout.map { timeout in
            Task {
                try await Task.sleep(for: timeout)
                timedOut.set()
                _ = await command.stop(grace: request.killAfter)
            }
        }
        defer { deadline?.cancel() }
        return await withTaskCancellationHandler {
            await command.waitForExit()
        } onCancel: {
            // The lock is lost (or cronlock is shutting down): another host may hold it already.
            command.signalGroup(SIGKILL)
        }
    }

    private static func exitCode(for error: RedLockError, request: Request, signals: SignalState, finished: Termination?) -> Int32 {
        switch error.code {
        case .heldElsewhere:
            request.logger.info("cronlock skipped: the lock is held elsewhere", metadata: ["cronlock.key": "\(request.key)"])
            return request.conflictExitCode
        case .lockLost:
            let consequence = finished.map { "the command had ended (exit \($0.shellExitCode)) but may have overlapped another host" }
                ?? "the command's process group was killed"
            return fail(CronlockExit.lockLost, "\(error); \(consequence)")
        case .cancelled:
            return CronlockExit.signaled(signals.received ?? SIGTERM)
        case .invalidArgument, .invalidConfiguration:
            return fail(CronlockExit.usage, "\(error)")
        default:
            return fail(CronlockExit.noQuorum, "\(error)")
        }
    }

    private static func lockWait(_ wait: WaitText?) -> LockWait {
        switch wait {
        case nil: .noWait
        case .forever: .forever
        case .upTo(let duration): .upTo(duration)
        }
    }

    /// Prints one error line on stderr and returns `code`.
    static func fail(_ code: Int32, _ message: String) -> Int32 {
        CronlockMain.printError(message)
        return code
    }

    /// The command's end, once it has ended, shared between the body and the error path.
    private final class TerminationBox: Sendable {
        private let termination = Mutex<Termination?>(nil)
        func set(_ value: Termination) { termination.withLock { $0 = value } }
        var value: Termination? { termination.withLock { $0 } }
    }

    /// A one-way flag shared between tasks.
    private final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }
}
