import RedisIO

/// What one run has learned so far, shared between the command's task, its timers, the stop
/// watch, and the code that reports and notifies afterwards.
final class RunState: Sendable {
    private struct State {
        var startedAt: Int64?
        var ending: RunRecord.Ending?
        var stopRequest: StopRequest?
        var timedOut = false
        var commandStarted = false
        var lostAfterRecording = false
        /// The attempts that ended so far, and when the current one began (Unix ms).
        var attempts: [RunRecord.Attempt] = []
        var attemptStartedAt: Int64?
        /// How many attempts started their command.
        var commandsStarted = 0
        /// The job's last outcome before this run, read for `--notify-on change`.
        var previousOutcome: RunOutcome?
    }

    let record: RunRecord
    private let state = PthreadLock(State())

    init(record: RunRecord) {
        self.record = record
    }

    var ending: RunRecord.Ending? { state.withLock { $0.ending } }
    var stopRequest: StopRequest? { state.withLock { $0.stopRequest } }
    var timedOut: Bool { state.withLock { $0.timedOut } }
    /// Whether the command was started (exec succeeded); --min-hold applies only then.
    var commandStarted: Bool { state.withLock { $0.commandStarted } }
    /// The job's last outcome before this run (nil: none, or not read).
    var previousOutcome: RunOutcome? { state.withLock { $0.previousOutcome } }
    func setPreviousOutcome(_ outcome: RunOutcome?) { state.withLock { $0.previousOutcome = outcome } }
    /// The attempts that ended so far, oldest first.
    var attempts: [RunRecord.Attempt] { state.withLock { $0.attempts } }
    /// Whether the current attempt (the `attempts.count + 1`th) started its command.
    var attemptStartedCommand: Bool { state.withLock { $0.commandsStarted > $0.attempts.count } }

    /// The lock was taken at `startedAt` (Unix ms).
    func began(at startedAt: Int64) { state.withLock { $0.startedAt = startedAt } }
    func markTimedOut() { state.withLock { $0.timedOut = true } }
    func markCommandStarted() {
        state.withLock { state in
            state.commandStarted = true
            state.commandsStarted += 1
        }
    }

    /// A new attempt begins now: its `--timeout` is its own.
    func beginAttempt() {
        state.withLock { state in
            state.timedOut = false
            state.attemptStartedAt = WallClock.epochMilliseconds()
        }
    }

    /// The current attempt ended with `ending`.
    func endAttempt(_ ending: RunRecord.Ending) {
        let now = WallClock.epochMilliseconds()
        state.withLock { state in
            let duration = max(0, now - (state.attemptStartedAt ?? ending.startedAt))
            state.attempts.append(RunRecord.Attempt(outcome: ending.outcome, exitCode: ending.exitCode, durationMilliseconds: duration))
        }
    }
    func markStopped(_ request: StopRequest) { state.withLock { $0.stopRequest = $0.stopRequest ?? request } }
    func end(_ ending: RunRecord.Ending) { state.withLock { $0.ending = ending } }

    /// Whether the run was recorded as finished with another outcome before `lost()` (its release
    /// found the lock gone): the history needs a `lost` event.
    var lostAfterRecording: Bool { state.withLock { $0.lostAfterRecording } }

    /// The release found the lock gone: whatever the command did, the run counts as lost.
    func lost() {
        state.withLock { state in
            state.lostAfterRecording = state.ending.map { $0.outcome != .lost } ?? false
            state.ending?.outcome = .lost
            state.ending?.exitCode = CronlockExit.lockLost
        }
    }

    /// The ending for `outcome` and exit `code`, finishing now.
    func ending(_ outcome: RunOutcome, _ code: Int32, tail: String? = nil) -> (RunRecord.Ending, Int32) {
        let now = WallClock.epochMilliseconds()
        let (startedAt, stop) = state.withLock { ($0.startedAt ?? now, $0.stopRequest) }
        let ending = RunRecord.Ending(outcome: outcome, exitCode: code, startedAt: startedAt, finishedAt: now,
                                      stoppedBy: outcome == .stopped ? stop?.by : nil,
                                      stopReason: outcome == .stopped ? stop?.reason : nil, outputTail: tail)
        return (ending, code)
    }

    /// The environment of `--notify`: the run's facts.
    func facts(_ ending: RunRecord.Ending, redisKey: String) -> [String: String] {
        var facts = [
            "CRONLOCK_KEY": redisKey, "CRONLOCK_JOB": record.keys.name, "CRONLOCK_GROUP": record.keys.group,
            "CRONLOCK_RUN_ID": record.runID, "CRONLOCK_PID": String(record.pid), "CRONLOCK_OUTCOME": ending.outcome.rawValue,
            "CRONLOCK_EXIT_CODE": String(ending.exitCode), "CRONLOCK_HOST": record.host,
            "CRONLOCK_DURATION_MS": String(ending.durationMilliseconds),
            "CRONLOCK_STARTED_AT": WallClock.iso8601(epochMilliseconds: ending.startedAt),
            "CRONLOCK_FINISHED_AT": WallClock.iso8601(epochMilliseconds: ending.finishedAt),
        ]
        if let outputTail = ending.outputTail { facts["CRONLOCK_OUTPUT"] = outputTail }
        if let stoppedBy = ending.stoppedBy { facts["CRONLOCK_STOPPED_BY"] = stoppedBy }
        if let stopReason = ending.stopReason, !stopReason.isEmpty { facts["CRONLOCK_STOP_REASON"] = stopReason }
        if !ending.degraded.isEmpty { facts["CRONLOCK_DEGRADED"] = DegradedServer.summary(ending.degraded) }
        if !ending.attempts.isEmpty { facts["CRONLOCK_ATTEMPTS"] = String(ending.attempts.count) }
        return facts
    }
}

/// `--fail-pattern`: a regular expression searched for in the tail of the command's output.
enum FailPattern {
    /// How much of the output's tail is searched (or `--record-output`'s size, if larger).
    static let window = 65_536

    /// Why `pattern` is not a valid regular expression, or nil.
    static func problem(with pattern: String) -> String? {
        do {
            _ = try Regex(pattern)
            return nil
        } catch {
            return "--fail-pattern \"\(pattern)\" is not a valid regular expression: \(error)"
        }
    }

    static func matches(_ pattern: String, _ output: [UInt8]) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return String(decoding: output, as: UTF8.self).contains(regex)
    }
}
