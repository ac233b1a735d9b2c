import ArgumentParser
import RedLock

/// `cronlock history --key NAME [--limit N] [--json]`: the job's runs, merged across masters.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a job's runs, newest first: time, host, duration, exit code, outcome.",
        discussion: "--group G: the job's group (default: its last run's). Merged from every master that answers (a run shows once). Exit 0 when a majority answered, 69 when not, 77 when a master's ACL denies it.")

    @OptionGroup var connection: ConnectionOptions
    /// `--group` is the root command's option (see `JobOptions.group`).
    @ParentCommand var root: CronlockCommand

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
            let keys = try connection.jobKeys(group: try await session.group(of: name, explicit: root.job.group))
            let (runs, running) = try await session.history(of: keys, limit: limit)
            print(json ? Self.json(runs, running: running) : Self.text(runs, running: running, name: name))
        }
    }

    static func text(_ runs: [RunSummary], running: Set<String>, name: String) -> String {
        guard !runs.isEmpty else { return "no runs of \(name) recorded" }
        return runs.map { run in
            var columns = [WallClock.iso8601(epochMilliseconds: run.startedAt), run.host,
                           run.durationMilliseconds.map(Self.duration) ?? "-", "exit \(run.exitCode ?? "-")",
                           run.outcomeText(runningNow: running.contains(run.run)), "run \(run.run)"]
            if let stoppedBy = run.stoppedBy { columns.append("stopped by \(stoppedBy)") }
            return columns.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ runs: [RunSummary], running: Set<String>) -> String {
        JSONText.array(runs.map { run in
            var fields = [("run", JSONText.string(run.run)), ("host", JSONText.string(run.host)),
                          ("command", JSONText.string(run.command)),
                          ("started_at", JSONText.string(WallClock.iso8601(epochMilliseconds: run.startedAt))),
                          ("duration_ms", run.durationMilliseconds.map(String.init) ?? "null"),
                          ("exit_code", run.exitCode ?? "null"),
                          ("outcome", JSONText.string(run.outcomeText(runningNow: running.contains(run.run))))]
            if let stoppedBy = run.stoppedBy { fields.append(("stopped_by", JSONText.string(stoppedBy))) }
            if let output = run.output { fields.append(("output", JSONText.string(output))) }
            return JSONText.object(fields)
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
