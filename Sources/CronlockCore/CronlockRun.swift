import Logging
import RedLock

#if canImport(Glibc)
import Glibc
#endif
import RedisIO

/// One cronlock run: take the lock, run the command while renewing it, end with the min-hold, and
/// turn what happened into an exit code.
///
/// The lock is taken before the command starts; it is released (or shortened to the min-hold) only
/// after the command's whole process group is gone. If the lock is lost while the command runs,
/// the group is killed at once (another host may already hold the lock) and the exit code is 79.
package enum CronlockRun {
    /// Everything a run needs, already validated.
    package struct Request: Sendable {
        package var key: String
        package var configuration: RedLockConfiguration
        package var ttl: Duration
        package var wait: WaitText?
        /// With `wait`: give up (exit 69) once no majority has answered for this long; `nil`: never.
        package var waitUnreachable: Duration?
        package var minimumHold: Duration
        package var timeout: Duration?
        package var killAfter: Duration
        package var conflictExitCode: Int32
        package var command: [String]
        package var logger: Logger
        /// The job's name, group and keys (the lock key is `jobKeys.lock`, equal to `key`).
        var jobKeys: JobKeys
        /// Whether job control rides with the lock (pause checks, history, events, remote stop).
        var jobControl: Bool
        /// Runs kept in the job's history.
        var historyRuns: Int
        /// Bytes of the output's tail stored in the `finished` event, if any.
        var recordOutput: Int?
        /// Marks a run `failed` when the output's tail matches (a Swift `Regex` pattern).
        var failPattern: String?
        /// The command to notify after a run, and when.
        var notify: NotifyPlan?
        /// How often a failed run is tried again under the same lock.
        var retry: RetryPolicy
        /// How often the job should start (`--expect-every`), stored with the job when it runs.
        var expectEvery: Duration?
        /// Where to write the job's Prometheus textfile after the run, if anywhere.
        var metrics: MetricsTextfile?
    }

    /// Runs `request` in a task the signal thread can cancel; returns the exit code.
    package static func execute(_ request: Request, signals: SignalState) async -> Int32 {
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
        let record = RunRecord(runID: RunRecord.makeRunID(), keys: request.jobKeys, host: ConnectionOptions.hostName(),
                               pid: getpid(), command: request.command[0])
        let recorder = request.jobControl ? JobRecorder(record: record, historyRuns: request.historyRuns, expectEvery: request.expectEvery) : nil
        let client: RedLockClient
        do {
            client = try RedLockClient(configuration: request.configuration, commandExtension: recorder)
        } catch {
            return fail(CronlockExit.usage, "\(error)")
        }
        let run = RunState(record: record)
        let invokedAt = WallClock.epochMilliseconds()
        let code = await runUnderLock(request, client: client, run: run, recorder: recorder, signals: signals)
        if run.lostAfterRecording { await recorder?.recordLost(client: client) }
        if let metrics = request.metrics {
            let invocation: JobMetrics.Invocation = run.ending.map { .ran($0) }
                ?? (code == request.conflictExitCode || code == 0 ? .skipped : .lockError)
            let lockWait = Duration.milliseconds(max(0, (run.ending?.startedAt ?? WallClock.epochMilliseconds()) - invokedAt))
            metrics.record(invocation, keys: request.jobKeys, host: record.host, lockWait: lockWait, expectEvery: request.expectEvery)
        }
        if let notify = request.notify, let ending = run.ending, notify.applies(to: ending, previous: run.previousOutcome) {
            await notify.run(facts: run.facts(ending, redisKey: request.key), logger: request.logger)
        }
        await client.shutdown()
        return code
    }

    private static func runUnderLock(_ request: Request, client: RedLockClient, run: RunState, recorder: JobRecorder?,
                                     signals: SignalState) async -> Int32 {
        let logger = request.logger
        do {
            let code = try await withLock(request, client: client) { lock in
                logger.info("cronlock acquired the lock; running the command",
                            metadata: ["cronlock.key": "\(request.key)", "cronlock.run": "\(run.record.runID)"])
                run.began(at: recorder?.startedAt ?? WallClock.epochMilliseconds())
                // Announced beside the command, not before it; the `finished` event must follow it.
                let announcement = recorder.map { recorder in
                    Task {
                        await recorder.announceStarted(client: client)
                        if request.notify?.when == .change { run.setPreviousOutcome(await recorder.lastOutcome(client: client)) }
                    }
                }
                // Said while the command runs, once every server answered the acquisition or timed out.
                let degraded = Task { await degradedServers(of: lock.lock, request: request, run: run) }
                var (ending, code) = await runAttempts(request, lock: lock, client: client, run: run, signals: signals)
                ending.degraded = await degraded.value
                await announcement?.value
                run.end(ending)
                recorder?.finish(ending)
                // Thrown, so that withLock deletes the key at once: --min-hold is for jobs that ran.
                guard run.commandStarted else { throw CommandNotStarted(exitCode: code) }
                return code
            }
            return code
        } catch let notStarted as CommandNotStarted {
            return notStarted.exitCode
        } catch let error as RedLockError {
            return exitCode(for: error, request: request, run: run, signals: signals)
        } catch {
            return fail(CronlockExit.noQuorum, "\(error)")
        }
    }

    /// The servers that failed `lock`'s acquisition (waiting for its last answers, at most the
    /// per-server timeout), said at `warning` when there are any.
    private static func degradedServers(of lock: Lock, request: Request, run: RunState) async -> [DegradedServer] {
        let failing = DegradedServer.failing(in: await lock.finalAcquisitionReports())
        if !failing.isEmpty {
            let consequence = DegradedServer.consequence(failing: failing.count, of: request.configuration.servers.count)
            request.logger.warning("cronlock is running without every server; \(consequence): \(DegradedServer.summary(failing))",
                                   metadata: ["cronlock.key": "\(request.key)", "cronlock.run": "\(run.record.runID)"])
        }
        return failing
    }

    /// `client.withLock` for this run. Without `--wait`, one attempt. With it, attempts that find
    /// no majority are retried with back-off and warnings until `--wait-unreachable` has passed
    /// (see `UnreachableWait`); an attempt that finds no majority never ran `body`.
    private static func withLock(_ request: Request, client: RedLockClient,
                                 _ body: @escaping @Sendable (LockHandle) async throws -> Int32) async throws -> Int32 {
        func attempt(_ wait: LockWait) async throws -> Int32 {
            try await client.withLock(request.key, ttl: request.ttl, wait: wait, minimumHold: request.minimumHold, logger: request.logger, body)
        }
        guard let wait = request.wait else { return try await attempt(.noWait) }
        let deadline: ContinuousClock.Instant? = if case .upTo(let limit) = wait { .now + limit } else { nil }
        var unreachable = UnreachableWait(limit: request.waitUnreachable)
        let limit = request.waitUnreachable.map { HistoryCommand.duration($0.millisecondsRoundedUp) } ?? "forever"
        while true {
            do {
                return try await attempt(unreachable.nextAttempt(now: .now, deadline: deadline))
            } catch let error as RedLockError where error.code == .heldElsewhere {
                if let deadline, ContinuousClock.now >= deadline { throw error }
                unreachable.held()
            } catch let error as RedLockError where error.code == .noQuorum && !isMisconfiguration(error, quorum: client.quorum) {
                switch unreachable.unreachable(now: .now) {
                case .giveUp:
                    throw RedLockError(.noQuorum, "gave up waiting for the lock: no majority of servers answered for --wait-unreachable \(limit) (\(error.message))",
                                       resource: error.resource, servers: error.servers)
                case .retry(let pause, let warn):
                    if warn {
                        request.logger.warning("cronlock cannot reach a majority of servers while waiting for the lock; retrying (--wait-unreachable \(limit)): \(error)",
                                               metadata: ["cronlock.key": "\(request.key)"])
                    }
                    let left = deadline.map { $0 - .now } ?? pause
                    guard left > .zero else { throw error }
                    try? await Task.sleep(for: min(pause, left))
                    if Task.isCancelled { throw RedLockError(.cancelled, "cancelled while waiting for the servers", resource: error.resource) }
                }
            }
        }
    }

    /// Runs the command under the lock, trying a failed run again as `request.retry` allows while
    /// the lock is still held (and renewed); the ending is the last attempt's, with every attempt.
    private static func runAttempts(_ request: Request, lock: LockHandle, client: RedLockClient, run: RunState,
                                    signals: SignalState) async -> (RunRecord.Ending, Int32) {
        var attempt = 1
        while true {
            run.beginAttempt()
            var (ending, code) = await runAndConclude(request, lock: lock, client: client, run: run, signals: signals)
            guard request.retry.retries > 0 else { return (ending, code) }
            let commandStarted = run.attemptStartedCommand
            run.endAttempt(ending)
            ending.attempts = run.attempts
            guard commandStarted, request.retry.retries(after: ending.outcome, attempt: attempt) else { return (ending, code) }
            attempt += 1
            let delay = request.retry.delay(before: attempt)
            request.logger.warning("cronlock attempt \(attempt - 1) failed (exit \(code)); retrying in \(DurationText.text(delay))",
                                   metadata: ["cronlock.key": "\(request.key)", "cronlock.run": "\(run.record.runID)"])
            if let interrupted = await waitBeforeRetry(delay, request, client: client, run: run, signals: signals) {
                var (ending, code) = interrupted
                ending.attempts = run.attempts
                return (ending, code)
            }
        }
    }

    /// Wrong credentials or a server that is not Redis on too many servers to leave a majority:
    /// waiting will not help (the library gives up on these at once too).
    private static func isMisconfiguration(_ error: RedLockError, quorum: Int) -> Bool {
        let misconfigured = error.servers.count { $0.outcome.kind == .authFailed || $0.outcome.kind == .protocolError }
        return misconfigured > error.servers.count - quorum
    }

    /// Waits `delay` before the next attempt, watching for what ends a run instead: a signal, a
    /// lost lock (both cancel this task) or a `cronlock stop`. Returns that ending, or nil.
    private static func waitBeforeRetry(_ delay: Duration, _ request: Request, client: RedLockClient, run: RunState,
                                        signals: SignalState) async -> (RunRecord.Ending, Int32)? {
        let stop: StopRequest? = await withTaskGroup(of: StopRequest?.self) { group in
            group.addTask { try? await Task.sleep(for: delay); return nil }
            if request.jobControl {
                group.addTask { await StopWatch.firstRequest(for: run.record.runID, keys: request.jobKeys, client: client) }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let stop {
            run.markStopped(stop)
            let reason = stop.reason.isEmpty ? "" : ": \(stop.reason)"
            return run.ending(.stopped, fail(CronlockExit.stopped, "\(request.command[0]) was stopped by \(stop.by)\(reason) before its next attempt"))
        }
        guard Task.isCancelled else { return nil }
        if let signal = signals.received { return run.ending(.signal, CronlockExit.signaled(signal)) }
        return run.ending(.lost, CronlockExit.lockLost)
    }

    /// Runs the command under the lock and turns how it ended into an outcome and exit code.
    private static func runAndConclude(_ request: Request, lock: LockHandle, client: RedLockClient, run: RunState,
                                       signals: SignalState) async -> (RunRecord.Ending, Int32) {
        let happening: RunConclusion.Happening
        var tail: String?
        do {
            let end = try await runCommand(request, lock: lock, client: client, run: run, signals: signals)
            tail = request.recordOutput.map { end.tail.suffix($0) }.map { String(decoding: $0, as: UTF8.self) }
            let exitedZero = end.termination == .exited(0)
            happening = .ended(RunConclusion.CommandEnd(
                command: request.command[0], termination: end.termination, leaseExpired: end.leaseExpired, signal: signals.received,
                stop: run.stopRequest, timedOut: run.timedOut, lockLost: Task.isCancelled,
                matchedFailPattern: exitedZero && request.failPattern.map { FailPattern.matches($0, end.tail) } ?? false))
        } catch let error as SpawnFailure {
            happening = .spawnFailed(exitCode: error.exitCode, message: "\(error)", signal: signals.received)
        } catch {
            happening = .notStarted(signal: signals.received)
        }
        let conclusion = RunConclusion(happening)
        if let line = conclusion.error { CronlockMain.printError(line) }
        if conclusion.outcome == .ok {
            request.logger.info("cronlock command finished", metadata: ["cronlock.key": "\(request.key)", "cronlock.exit": "0"])
        }
        return run.ending(conclusion.outcome, conclusion.exitCode, tail: tail)
    }

    /// The lock was taken but the command could not be started (it failed at exec, or a signal
    /// came first); its error has been reported.
    private struct CommandNotStarted: Error {
        let exitCode: Int32
    }

    /// How the command ended, the tail of its output when it was captured, and whether the guard
    /// killed it at the lock's deadline.
    private struct CommandEnd {
        var termination: Termination
        var tail: [UInt8]
        var leaseExpired: Bool
    }

    /// Starts the command and waits for its whole process group, stopping it on timeout, on a
    /// remote `cronlock stop`, or on lock loss.
    private static func runCommand(_ request: Request, lock: LockHandle, client: RedLockClient, run: RunState,
                                   signals: SignalState) async throws -> CommandEnd {
        // A signal that came while the lock was being taken: do not start at all (the lock is then
        // released at once, without the min-hold, since the job did not run). One that comes from
        // here on goes to the command, even while it is being started.
        guard !Task.isCancelled, signals.commandStarting() else { throw CancellationError() }
        defer { signals.commandFinished() }
        var facts = ["CRONLOCK_KEY": request.key, "CRONLOCK_RUN_ID": run.record.runID]
        facts["CRONLOCK_FENCING_TOKEN"] = lock.lock.fencingToken.map { String($0) }
        let environment = ProcessEnvironment.forCommand(adding: facts)
        let captureLimit = max(request.recordOutput ?? 0, request.failPattern == nil ? 0 : FailPattern.window)
        let output = captureLimit > 0 ? try OutputTail(limit: captureLimit) : nil
        let lease = RunningCommand.Lease(deadline: lock.validUntil, margin: leaseMargin(ttl: request.ttl))
        let command = try RunningCommand.start(request.command, environment: environment, output: output, lease: lease)
        lock.onExtension { command.extendLease(until: $0.validUntil) }
        command.extendLease(until: lock.validUntil) // in case an extension came while it started
        run.markCommandStarted()
        signals.commandStarted(command)
        let deadline = request.timeout.map { timeout in
            Task {
                try await Task.sleep(for: timeout)
                run.markTimedOut()
                _ = await command.stop(grace: request.killAfter)
            }
        }
        defer { deadline?.cancel() }
        let stopWatch = request.jobControl ? Task {
            guard let stop = await StopWatch.firstRequest(for: run.record.runID, keys: request.jobKeys, client: client) else { return }
            run.markStopped(stop)
            request.logger.notice("cronlock stopping the command on request", metadata: ["cronlock.stopped_by": "\(stop.by)"])
            _ = await command.stop(grace: request.killAfter)
        } : nil
        defer { stopWatch?.cancel() }
        let termination = await withTaskCancellationHandler {
            await command.waitForExit()
        } onCancel: {
            // The lock is lost (or cronlock is shutting down): another host may hold it already.
            command.signalTree(SIGKILL)
        }
        return CommandEnd(termination: termination, tail: await output?.finalTail() ?? [], leaseExpired: command.leaseExpired)
    }

    /// The least validity the command may start with: a third of the TTL, when the first renewal
    /// is due. Less means cronlock was held up since the lock was taken.
    static func leaseMargin(ttl: Duration) -> Duration { ttl / 3 }

    private static func exitCode(for error: RedLockError, request: Request, run: RunState, signals: SignalState) -> Int32 {
        switch error.code {
        case .heldElsewhere:
            return skippedAsHeldElsewhere(request)
        case .refused:
            switch PauseVerdict(error.servers) {
            case .paused:
                // A paused job: cron must not mail, so exit 0 and say why only at --log-level info.
                request.logger.info("cronlock skipped: \(error.message)", metadata: ["cronlock.key": "\(request.key)"])
                return 0
            case .heldElsewhere:
                return skippedAsHeldElsewhere(request)
            case .noQuorum:
                return fail(CronlockExit.noQuorum, "\(PauseVerdict.noQuorumError(error))")
            }
        case .lockLost:
            let consequence = run.ending.map { ending in
                ending.outcome == .lost ? "the command's process tree was killed"
                    : "the command had ended (exit \(ending.exitCode)) but may have overlapped another host"
            } ?? "the command's process tree was killed"
            run.lost()
            return fail(CronlockExit.lockLost, "\(error); \(consequence)")
        case .cancelled:
            return CronlockExit.signaled(signals.received ?? SIGTERM)
        case .invalidArgument, .invalidConfiguration:
            return fail(CronlockExit.usage, "\(error)")
        default:
            return fail(CronlockExit.noQuorum, "\(error)")
        }
    }

    private static func skippedAsHeldElsewhere(_ request: Request) -> Int32 {
        request.logger.info("cronlock skipped: the lock is held elsewhere", metadata: ["cronlock.key": "\(request.key)"])
        return request.conflictExitCode
    }

    /// Prints one error line on stderr and returns `code`.
    static func fail(_ code: Int32, _ message: String) -> Int32 {
        CronlockMain.printError(message)
        return code
    }
}
