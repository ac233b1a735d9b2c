import RedLock

/// One run as the masters' histories tell it, merged across masters.
package struct RunSummary: Sendable, Equatable {
    package var run: String
    package var host = ""
    package var command = ""
    /// Unix milliseconds.
    package var startedAt: Int64 = 0
    /// Unix milliseconds; nil while running or when no `finished` event was seen.
    package var finishedAt: Int64?
    package var durationMilliseconds: Int64?
    package var exitCode: String?
    package var outcome: String?
    package var stoppedBy: String?
    /// The tail of the output, with `--record-output`.
    package var output: String?

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
            switch event["event"] {
            case "started":
                summary.startedAt = Int64(event["at"] ?? "") ?? summary.startedAt
            case "finished":
                summary.startedAt = Int64(event["started_at"] ?? "") ?? summary.startedAt
                summary.finishedAt = Int64(event["at"] ?? "")
                summary.durationMilliseconds = Int64(event["duration_ms"] ?? "")
                summary.exitCode = event["exit"]
                summary.outcome = event["outcome"]
                summary.stoppedBy = event["stopped_by"]
                summary.output = event["output"]
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
