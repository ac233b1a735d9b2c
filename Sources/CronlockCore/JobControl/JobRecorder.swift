import RedLock
import RedisIO

/// Job control's share of a run's lock commands (see `LockCommandExtension`): the pause check and
/// the `started` event ride with the acquire, the `finished` event with the release, so a run
/// that is not paused costs no extra round trip.
final class JobRecorder: LockCommandExtension {
    let record: RunRecord
    /// The stream's cap in entries: two events per run.
    private let historyEntries: Int
    private let state = PthreadLock(State())

    /// What the run's rounds leave for the events that follow them.
    private struct State {
        var ending: RunRecord.Ending?
        /// When the last acquisition round started (Unix ms).
        var acquireAt: Int64 = 0
        var fencingToken: UInt64?
    }

    /// `--expect-every`, stored in the job's hash by the acquire.
    private let expectEvery: Duration?

    init(record: RunRecord, historyRuns: Int, expectEvery: Duration? = nil) {
        self.record = record
        self.historyEntries = historyRuns * 2
        self.expectEvery = expectEvery
    }

    /// Sets how the run ended; the release that follows records it. Call before the lock is released.
    func finish(_ ending: RunRecord.Ending) {
        state.withLock { $0.ending = ending }
    }

    /// How the run ended, once `finish` was called.
    var recordedEnding: RunRecord.Ending? { state.withLock { $0.ending } }

    /// When the last acquisition round started (Unix ms): the `started` event's time.
    var startedAt: Int64 { state.withLock { $0.acquireAt } }

    func acquireScript(fencingToken: UInt64?) -> ExtensionScript {
        let keys = record.keys
        let now = WallClock.epochMilliseconds()
        state.withLock {
            $0.acquireAt = now
            $0.fencingToken = fencingToken
        }
        return ExtensionScript(
            source: JobScripts.acquire,
            keys: [keys.pauseGroup, keys.pauseJob, keys.job, keys.history, keys.registry],
            arguments: [keys.name, keys.group, record.host, String(historyEntries), record.runID, keys.pauseAll,
                        expectEvery.map { String(Int64(($0 / .milliseconds(1)).rounded())) } ?? ""]
                + Self.flatten(record.startedFields(at: now, fencingToken: fencingToken)))
    }

    func releaseScript(acquired: Bool) -> ExtensionScript {
        let keys = record.keys
        let fields = acquired ? recordedEnding.map(record.finishedFields) ?? [] : []
        return ExtensionScript(
            source: JobScripts.release,
            keys: [keys.job, keys.history, keys.stop, keys.registry],
            arguments: [record.runID, String(historyEntries), keys.events, keys.name] + Self.flatten(fields))
    }

    /// Publishes the `started` event on every master, once the lock is held (the acquire only
    /// records it). Best effort: a master that is down or denies the channel misses it.
    func announceStarted(client: RedLockClient) async {
        let (startedAt, token) = state.withLock { ($0.acquireAt, $0.fencingToken) }
        let event = JSONText.object(record.startedFields(at: startedAt, fencingToken: token).map { ($0.0, JSONText.string($0.1)) })
        _ = try? await client.sendToEveryServer(["PUBLISH", record.keys.events, event], key: record.keys.events)
    }

    /// The job's last outcome before this run: the newest `last_outcome` among the masters that
    /// answer (nil: none recorded, or no master answered). Call before the release records this run.
    func lastOutcome(client: RedLockClient) async -> RunOutcome? {
        guard let replies = try? await client.sendToEveryServer(["HMGET", record.keys.job, "last_outcome", "last_at"], key: record.keys.job) else {
            return nil
        }
        let newest = replies.compactMap { reply -> (at: Int64, outcome: String)? in
            guard case .success(.array(let fields)) = reply.result, fields.count == 2, let outcome = fields[0].text else { return nil }
            return (Int64(fields[1].text ?? "") ?? 0, outcome)
        }.max { $0.at < $1.at }
        return newest.flatMap { RunOutcome(rawValue: $0.outcome) }
    }

    /// Records on every master that the run, already recorded as finished, lost its lock (found
    /// only by its release). Best effort: the exit code and `--notify` say so in any case.
    func recordLost(client: RedLockClient) async {
        let keys = record.keys
        let fields = record.lostFields(at: WallClock.epochMilliseconds())
        _ = try? await client.sendToEveryServer(
            ["EVAL", JobScripts.markLost, "2", keys.job, keys.history, record.runID, String(historyEntries), keys.events]
                + Self.flatten(fields), key: keys.job)
    }

    static func flatten(_ fields: [(String, String)]) -> [String] {
        fields.flatMap { [$0.0, $0.1] }
    }
}
