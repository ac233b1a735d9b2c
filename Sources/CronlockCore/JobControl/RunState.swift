import Synchronization

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
    }

    let record: RunRecord
    private let state = Mutex(State())

    init(record: RunRecord) {
        self.record = record
    }

    var ending: RunRecord.Ending? { state.withLock { $0.ending } }
    var stopRequest: StopRequest? { state.withLock { $0.stopRequest } }
    var timedOut: Bool { state.withLock { $0.timedOut } }
    /// Whether the command was started (exec succeeded); --min-hold applies only then.
    var commandStarted: Bool { state.withLock { $0.commandStarted } }

    /// The lock was taken at `startedAt` (Unix ms).
    func began(at startedAt: Int64) { state.withLock { $0.startedAt = startedAt } }
    func markTimedOut() { state.withLock { $0.timedOut = true } }
    func markCommandStarted() { state.withLock { $0.commandStarted = true } }
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
