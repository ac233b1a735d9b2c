import ArgumentParser
import RedLock

/// `cronlock jobs [--group G] [--json]`: every job seen, with its last outcome, current holder
/// and pause state.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the jobs that ran under --prefix: group, last outcome, current holder, paused state.",
        discussion: "--group G lists only that group. Exit 0 when a majority of masters answered, 69 when not, 77 when a master's ACL denies it.")

    @OptionGroup var connection: ConnectionOptions

    /// `--group` is the root command's option (see `JobOptions.group`).
    @ParentCommand var root: CronlockCommand

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    func run() async throws {
        try await AdminSession.with(connection) { session in
            let states = try await session.jobStates(inGroup: root.job.group)
            print(json ? Self.json(states) : Self.text(states))
        }
    }

    static func text(_ states: [JobState]) -> String {
        guard !states.isEmpty else { return "no jobs recorded" }
        return states.map { state in
            let last = state.last["last_outcome"].map { outcome in
                "last \(outcome) (exit \(state.last["last_exit"] ?? "?")) on \(state.last["last_host"] ?? "?") at "
                    + WallClock.iso8601(epochMilliseconds: Int64(state.last["last_at"] ?? "") ?? 0)
            } ?? "no finished run"
            let now = state.runningHost.map { "running on \($0)" } ?? "idle"
            let paused = state.paused.map { "  paused (\($0))" } ?? ""
            return "\(state.keys.name)  [\(state.keys.group)]  \(now)  \(last)\(paused)"
        }.joined(separator: "\n")
    }

    static func json(_ states: [JobState]) -> String {
        JSONText.array(states.map { state in
            let last = state.last["last_outcome"] == nil ? "null" : JSONText.object([
                ("run", JSONText.string(state.last["last_run"] ?? "")), ("outcome", JSONText.string(state.last["last_outcome"] ?? "")),
                ("exit_code", state.last["last_exit"].flatMap { Int($0) }.map(String.init) ?? "null"),
                ("host", JSONText.string(state.last["last_host"] ?? "")),
                ("finished_at", JSONText.string(WallClock.iso8601(epochMilliseconds: Int64(state.last["last_at"] ?? "") ?? 0))),
                ("duration_ms", state.last["last_duration_ms"].flatMap { Int($0) }.map(String.init) ?? "null"),
            ])
            return JSONText.object([
                ("key", JSONText.string(state.keys.name)), ("group", JSONText.string(state.keys.group)),
                ("running_on", state.runningHost.map(JSONText.string) ?? "null"),
                ("paused", state.paused.map(JSONText.string) ?? "null"), ("last", last),
                ("skips", JSONText.object(state.skips.sorted { $0.key < $1.key }.map { ($0.key, String($0.value)) })),
            ])
        })
    }
}
