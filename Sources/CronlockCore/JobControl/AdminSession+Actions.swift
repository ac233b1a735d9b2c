import RedLock
import RedisIO

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
        let event = JSONText.object(([("event", "paused")] + scope.eventFields + fields).map { ($0.0, JSONText.string($0.1)) })
        let replies = try await script(JobScripts.pause, keys: [scope.key(prefix: prefix)],
                                       arguments: [String(milliseconds), scope.channel(prefix: prefix), event] + JobRecorder.flatten(fields))
        try requireMajority(replies, to: "pause \(scope.description)")
        return milliseconds > 0 ? now + milliseconds : nil
    }

    /// Ends the pause of `scope` on every master, publishing a `resumed` event with `by`. Returns
    /// whether any master had it paused. Throws `JobControlError` unless a majority answered.
    package func resume(_ scope: PauseScope, by requester: String) async throws -> Bool {
        let fields = [("event", "resumed")] + scope.eventFields + [("by", requester), ("at", String(WallClock.epochMilliseconds()))]
        let event = JSONText.object(fields.map { ($0.0, JSONText.string($0.1)) })
        let replies = try await script(JobScripts.resume, keys: [scope.key(prefix: prefix)], arguments: [scope.channel(prefix: prefix), event])
        try requireMajority(replies, to: "resume \(scope.description)")
        return replies.contains { if case .success(.integer(1)) = $0.result { true } else { false } }
    }

    /// How long a stop request stays on the masters if its run never picks it up (its host died).
    package static let stopRequestLifetime = Duration.seconds(3600)

    /// Asks the host running the job of `keys` to stop that run; its `finished` event records
    /// `stopped_by` `requester` and `reason`. Returns the ids of the runs asked to stop. Throws
    /// `JobControlError`: `notRunning` when nothing runs (saying so when its host is presumed
    /// dead), `noQuorum`/`permissionDenied` without a majority's answer.
    package func requestStop(_ keys: JobKeys, reason: String, by requester: String) async throws -> Set<String> {
        let fields = [("by", requester), ("reason", reason), ("at", String(WallClock.epochMilliseconds()))]
        let replies = try await script(
            JobScripts.stop, keys: [keys.job, keys.stop, keys.lock],
            arguments: [String(Self.stopRequestLifetime.millisecondsRoundedUp), keys.events] + JobRecorder.flatten(fields))
        try requireMajority(replies, to: "stop \(keys.name)")
        let markers = RunMarker.markers(in: replies)
        let runs = Set(markers.filter(\.isLive).map(\.run))
        guard !runs.isEmpty else {
            let dead = JobActivity(markers, quorum: quorum).presumedDeadText(keys.name)
            throw JobControlError(CronlockExit.notRunning, dead.map { "\($0); nothing to stop" } ?? "\(keys.name) is not running; nothing to stop")
        }
        return runs
    }

    /// Whether none of `runs` is running any more on the masters that answer (false without a
    /// majority's answer). Throws `JobControlError` (`notRunning`) when the run's lock expired
    /// without a `finished` event: its host is presumed dead.
    package func hasFinished(_ runs: Set<String>, keys: JobKeys) async throws -> Bool {
        let replies = try await script(JobScripts.currentRun, keys: [keys.job, keys.lock], arguments: [], readOnly: true)
        guard replies.count(where: { $0.result.value != nil }) >= quorum else { return false }
        let markers = RunMarker.markers(in: replies)
        if markers.contains(where: { $0.isLive && runs.contains($0.run) }) { return false }
        let activity = JobActivity(markers, quorum: quorum)
        if case .unknown(let run, _) = activity, runs.contains(run), let dead = activity.presumedDeadText(keys.name) {
            throw JobControlError(CronlockExit.notRunning, "asked \(keys.name) to stop, but \(dead)")
        }
        return true
    }
}
