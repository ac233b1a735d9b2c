import RedLock

extension AdminSession {
    /// Pauses `scope` on every master, for `duration` (nil: until resumed), recording `by` and
    /// `reason` in the pause and in the `paused` event. Returns when it ends by itself (Unix ms),
    /// nil without a duration. Throws `JobControlError` unless a majority has the pause.
    @discardableResult
    package func pause(_ scope: PauseScope, for duration: Duration?, reason: String, by requester: String) async throws -> Int64? {
        let now = WallClock.epochMilliseconds()
        let milliseconds = duration.map { $0.millisecondsRoundedUp } ?? 0
        var fields = [("by", requester), ("reason", reason), ("at", String(now))]
        if milliseconds > 0 { fields.append(("until", String(now + milliseconds))) }
        let event = JSONText.object([("event", JSONText.string("paused")), ("scope", JSONText.string(scope.description))]
                                    + fields.map { ($0.0, JSONText.string($0.1)) })
        let replies = try await script(JobScripts.pause, keys: [scope.key],
                                       arguments: [String(milliseconds), scope.channel, event] + JobRecorder.flatten(fields))
        try requireMajority(replies, to: "pause \(scope.description)")
        return milliseconds > 0 ? now + milliseconds : nil
    }

    /// Ends the pause of `scope` on every master, publishing a `resumed` event with `by`. Returns
    /// whether any master had it paused. Throws `JobControlError` unless a majority answered.
    package func resume(_ scope: PauseScope, by requester: String) async throws -> Bool {
        let event = JSONText.object([("event", JSONText.string("resumed")), ("scope", JSONText.string(scope.description)),
                                     ("by", JSONText.string(requester)),
                                     ("at", JSONText.string(String(WallClock.epochMilliseconds())))])
        let replies = try await script(JobScripts.resume, keys: [scope.key], arguments: [scope.channel, event])
        try requireMajority(replies, to: "resume \(scope.description)")
        return replies.contains { if case .success(.integer(1)) = $0.result { true } else { false } }
    }

    /// How long a stop request stays on the masters if its run never picks it up (its host died).
    package static let stopRequestLifetime = Duration.seconds(3600)

    /// Asks the host running the job of `keys` to stop that run; its `finished` event records
    /// `stopped_by` `requester` and `reason`. Returns the ids of the runs asked to stop. Throws
    /// `JobControlError` (`notRunning` when nothing runs, or without a majority's answer).
    package func requestStop(_ keys: JobKeys, reason: String, by requester: String) async throws -> Set<String> {
        let fields = [("by", requester), ("reason", reason), ("at", String(WallClock.epochMilliseconds()))]
        let replies = try await script(
            JobScripts.stop, keys: [keys.job, keys.stop],
            arguments: [String(Self.stopRequestLifetime.millisecondsRoundedUp), keys.events] + JobRecorder.flatten(fields))
        try requireMajority(replies, to: "stop \(keys.name)")
        let runs = Set(replies.compactMap { reply -> String? in if case .success(let value) = reply.result { value.text } else { nil } })
        guard !runs.isEmpty else { throw JobControlError(CronlockExit.notRunning, "\(keys.name) is not running; nothing to stop") }
        return runs
    }

    /// Whether none of `runs` is running any more on a majority of masters (false without one).
    package func hasFinished(_ runs: Set<String>, keys: JobKeys) async throws -> Bool {
        let replies = try await everyServer(["HGET", keys.job, "running"], key: keys.job)
        let answered = replies.compactMap { reply -> RedisReply? in try? reply.result.get() }
        guard answered.count >= quorum else { return false }
        return answered.allSatisfy { reply in reply.text.map { !runs.contains($0) } ?? true }
    }
}
