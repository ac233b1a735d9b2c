import ArgumentParser
import RedLock

/// `cronlock jobs [--group G] [--json]`: every job seen, with its last outcome, current holder
/// and pause state.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the jobs that ran under --prefix: health (ok, late, failing, paused), group, last outcome, current holder.",
        discussion: "--group G lists only that group. --overdue lists only late jobs and exits 1 when there is one. Exit 0 when a majority of masters answered, 69 when not, 77 when a master's ACL denies it.")

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var groupOption: GroupOption

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    @Flag(help: "List only late jobs (see --expect-every); exit 1 when there is one.")
    var overdue = false

    func run() async throws {
        try await AdminSession.with(connection) { session in
            var states = try await session.jobStates(inGroup: groupOption.group)
            let now = WallClock.epochMilliseconds()
            if overdue { states.removeAll { $0.health(now: now) != .late } }
            print(json ? Self.json(states, now: now) : overdue && states.isEmpty ? "no late jobs" : Self.text(states, now: now))
            if overdue && !states.isEmpty { throw ExitCode(CronlockExit.overdue) }
        }
    }

    static func text(_ states: [JobState], now time: Int64) -> String {
        guard !states.isEmpty else { return "no jobs recorded" }
        return states.map { state in
            let last = state.last["last_outcome"].map { outcome in
                "last \(outcome) (exit \(state.last["last_exit"] ?? "?")) on \(state.last["last_host"] ?? "?") at "
                    + WallClock.iso8601(epochMilliseconds: Int64(state.last["last_at"] ?? "") ?? 0)
            } ?? "no finished run"
            let now = switch state.activity {
            case .idle: "idle"
            case .running(_, let host): "running on \(host)"
            case .unknown(let run, let host): "unknown on \(host) (run \(run) ended without a finished event: host presumed dead)"
            }
            let paused = state.paused.map { "  paused (\($0.text))" } ?? ""
            let degraded = state.lastDegraded.isEmpty ? "" : "  degraded (\(DegradedServer.summary(state.lastDegraded)))"
            return "\(state.keys.name)  [\(state.keys.group)]  \(now)  \(last)\(degraded)\(paused)  \(state.health(now: time).rawValue)\(expected(state))"
        }.joined(separator: "\n")
    }

    /// `  expected every D, last started T` for a job with `--expect-every`.
    private static func expected(_ state: JobState) -> String {
        guard let every = state.expectEvery else { return "" }
        return "  " + JobHealth.expectation(every: every, lastStartedAt: state.lastStartedAt)
    }

    /// The jobs in the JSON output schema (see the README's "JSON output"), their health as of `time` (Unix ms).
    static func json(_ states: [JobState], now time: Int64) -> String {
        JSONText.array(states.map { state in
            let (now, run, host): (String, String?, String?) = switch state.activity {
            case .idle: ("idle", nil, nil)
            case .running(let run, let host): ("running", run, host)
            case .unknown(let run, let host): ("unknown", run, host)
            }
            var writer = JSONObjectWriter()
            writer.string("job", state.keys.name)
            writer.string("key", state.keys.lock)
            writer.string("group", state.keys.group)
            writer.string("state", now)
            writer.string("health", state.health(now: time).rawValue)
            writer.number("expect_every_ms", state.expectEvery.map { Int64($0 / .milliseconds(1)) })
            writer.time("last_started_at", epochMilliseconds: state.lastStartedAt)
            writer.string("run_id", run)
            writer.string("host", host)
            writer.string("running_on", now == "running" ? host : nil)
            writer.json("paused", state.paused?.json ?? "null")
            writer.json("last", state.last["last_outcome"] == nil ? "null" : lastRun(state))
            writer.json("skips", JSONText.object(state.skips.sorted { $0.key < $1.key }.map { ($0.key, String($0.value)) }))
            return writer.text
        })
    }

    /// The last finished run of a job, from its hash.
    private static func lastRun(_ state: JobState) -> String {
        var writer = JSONObjectWriter()
        writer.string("run_id", state.last["last_run"])
        writer.string("host", state.last["last_host"])
        writer.time("finished_at", epochMilliseconds: state.last["last_at"])
        writer.number("duration_ms", state.last["last_duration_ms"])
        writer.string("outcome", state.last["last_outcome"])
        writer.number("exit_code", state.last["last_exit"])
        writer.json("degraded", DegradedServer.json(state.lastDegraded))
        return writer.text
    }
}
