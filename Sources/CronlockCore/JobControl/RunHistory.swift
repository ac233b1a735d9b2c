import RedLock
import RedisIO

/// One run as the masters' histories tell it, merged across masters.
package struct RunSummary: Sendable, Equatable {
    package var run: String
    package var host = ""
    package var pid: Int64?
    package var command = ""
    package var startedAt: Int64 = 0
    package var finishedAt: Int64?
    package var durationMilliseconds: Int64?
    package var exitCode: String?
    package var outcome: String?
    package var stoppedBy: String?
    /// `cronlock stop --reason`, when it gave one.
    package var stopReason: String?
    package var output: String?
    /// The servers that failed the run's acquisition (a degraded run), from its `finished` event.
    package var degraded: [DegradedServer] = []
    /// The run's fencing token, from its `started` event (nil with fencing off).
    package var fencingToken: UInt64?
    /// Every attempt under `--retry`, oldest first (empty without it).
    var attempts: [RunRecord.Attempt] = []

    /// The outcome, or what is known without a `finished` event.
    package func outcomeText(runningNow: Bool) -> String {
        outcome ?? (runningNow ? "running" : "unknown")
    }
}

/// Reads and merges the `started`/`finished` events that the masters keep per job.
enum RunHistory {
    /// Event streams (XRANGE/XREVRANGE replies) from several masters, merged: one summary per run,
    /// newest first. A run recorded on any master appears once; a `lost` event (the lock was found
    /// gone at the release) overrides the outcome of its `finished` event on every master.
    static func merge(_ streams: [[[String: String]]]) -> [RunSummary] {
        var runs: [String: RunSummary] = [:]
        var lost: [String: (outcome: String?, exit: String?)] = [:]
        for event in streams.joined() {
            guard let run = event["run"] else { continue }
            var summary = runs[run] ?? RunSummary(run: run)
            summary.host = event["host"] ?? summary.host
            summary.command = event["command"] ?? summary.command
            summary.pid = event["pid"].flatMap { Int64($0) } ?? summary.pid
            switch event["event"] {
            case "started":
                summary.startedAt = Int64(event["at"] ?? "") ?? summary.startedAt
                summary.fencingToken = event["fencing_token"].flatMap { UInt64($0) } ?? summary.fencingToken
            case "finished":
                summary.startedAt = Int64(event["started_at"] ?? "") ?? summary.startedAt
                summary.finishedAt = Int64(event["at"] ?? "")
                summary.durationMilliseconds = Int64(event["duration_ms"] ?? "")
                summary.exitCode = event["exit"]
                summary.outcome = event["outcome"]
                summary.stoppedBy = event["stopped_by"]
                summary.stopReason = event["stop_reason"]
                summary.output = event["output"]
                summary.degraded = event["degraded"].map { DegradedServer.parse(field: $0) } ?? []
                summary.attempts = event["attempts"].map(RunRecord.Attempt.parse) ?? []
            case "lost":
                lost[run] = (event["outcome"], event["exit"])
            default:
                continue
            }
            runs[run] = summary
        }
        for (run, correction) in lost {
            runs[run]?.outcome = correction.outcome
            runs[run]?.exitCode = correction.exit
        }
        return runs.values.sorted { ($0.startedAt, $0.run) > ($1.startedAt, $1.run) }
    }

    /// The events of an `XRANGE`-style reply: each entry's fields as a dictionary.
    static func events(in reply: RedisReply) -> [[String: String]] {
        guard case .array(let entries) = reply else { return [] }
        return entries.compactMap { entry in
            guard case .array(let parts) = entry, parts.count == 2 else { return nil }
            return fields(parts[1])
        }
    }

    /// A flat field/value array (`HGETALL`, a stream entry) as a dictionary.
    static func fields(_ reply: RedisReply) -> [String: String]? {
        guard case .array(let flat) = reply else { return nil }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].text, let value = flat[index + 1].text { fields[name] = value }
            index += 2
        }
        return fields
    }
}
