import ArgumentParser
import RedLock

/// `cronlock history --key NAME [--limit N] [--json]`: the job's runs, merged across masters.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a job's runs, newest first: time, host, duration, exit code, outcome.",
        discussion: "--group G: the job's group (default: its last run's). Merged from every master that answers (a run shows once). Exit 0 when a majority answered, 69 when not, 77 when a master's ACL denies it.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var groupOption: GroupOption

    @Option(parsing: .unconditional, help: "Show at most N runs.")
    var limit: Int = 20

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    func validate() throws {
        _ = try connection.jobKeys(group: JobKeys.defaultGroup)
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        try await AdminSession.with(connection) { session in
            let name = try connection.jobKeys(group: JobKeys.defaultGroup).name
            let keys = try connection.jobKeys(group: try await session.group(of: name, explicit: groupOption.group))
            let (runs, running) = try await session.history(of: keys, limit: limit)
            print(json ? Self.json(runs[...], running: running, keys: keys) : Self.text(runs[...], running: running, name: name))
        }
    }

    static func text(_ runs: ArraySlice<RunSummary>, running: Set<String>, name: String) -> String {
        guard !runs.isEmpty else { return "no runs of \(name) recorded" }
        return runs.map { run in
            var columns = [WallClock.iso8601(epochMilliseconds: run.startedAt), run.host,
                           run.durationMilliseconds.map(Self.duration) ?? "-", "exit \(run.exitCode ?? "-")",
                           run.outcomeText(runningNow: running.contains(run.run)), "run \(run.run)"]
            if let token = run.fencingToken { columns.append("fence \(token)") }
            if run.attempts.count > 1 { columns.append("attempts " + run.attempts.map { "\($0.outcome.rawValue)(\($0.exitCode))" }.joined(separator: ",")) }
            if let stoppedBy = run.stoppedBy { columns.append("stopped by \(stoppedBy)" + (run.stopReason.map { ": \($0)" } ?? "")) }
            if !run.degraded.isEmpty { columns.append("degraded: \(DegradedServer.summary(run.degraded))") }
            return columns.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The runs in the JSON output schema (see the README's "JSON output").
    static func json(_ runs: ArraySlice<RunSummary>, running: Set<String>, keys: JobKeys) -> String {
        JSONText.array(runs.map { run in
            var writer = JSONObjectWriter()
            writer.string("job", keys.name)
            writer.string("key", keys.lock)
            writer.string("group", keys.group)
            writer.string("run_id", run.run)
            writer.string("host", run.host)
            writer.number("pid", run.pid)
            writer.string("command", run.command)
            writer.time("started_at", epochMilliseconds: run.startedAt)
            writer.time("finished_at", epochMilliseconds: run.finishedAt)
            writer.number("duration_ms", run.durationMilliseconds)
            writer.string("outcome", run.outcomeText(runningNow: running.contains(run.run)))
            writer.number("exit_code", run.exitCode)
            writer.string("stopped_by", run.stoppedBy)
            writer.string("stop_reason", run.stopReason)
            writer.string("output", run.output)
            writer.json("degraded", DegradedServer.json(run.degraded))
            writer.number("fencing_token", run.fencingToken.map { Int64($0) })
            writer.json("attempts", JSONText.array(run.attempts.map { attempt in
                var attemptWriter = JSONObjectWriter()
                attemptWriter.string("outcome", attempt.outcome.rawValue)
                attemptWriter.number("exit_code", Int64(attempt.exitCode))
                attemptWriter.number("duration_ms", attempt.durationMilliseconds)
                return attemptWriter.text
            }))
            return writer.text
        })
    }

    /// `850ms`, `12.3s`, `4m05s`.
    static func duration(_ milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds < 60_000 { return "\(milliseconds / 1000).\(milliseconds % 1000 / 100)s" }
        let seconds = milliseconds / 1000
        let remainder = seconds % 60
        return "\(seconds / 60)m\(remainder < 10 ? "0" : "")\(remainder)s"
    }
}
