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

    @OptionGroup var groupOption: GroupOption

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    /// What the masters say about one job.
    struct JobState {
        var keys: JobKeys
        var last: [String: String] = [:]
        var activity = JobActivity.idle
        var paused: Pause?
        var skips: [String: Int] = [:]

        /// The servers that failed the last finished run's acquisition.
        var lastDegraded: [DegradedServer] {
            last["last_degraded"].map { DegradedServer.parse(field: $0) } ?? []
        }
    }

    /// A pause that covers a job, as a majority of masters has it.
    struct Pause: Hashable {
        var scope: PauseScope
        var by: String?
        var reason: String
        /// When a `pause --for` ends (Unix ms).
        var until: Int64?

        /// `every job by ana@ops-1: storage migration`; the job's own pause is just `job`.
        var text: String {
            let reason = reason.isEmpty ? "" : ": \(reason)"
            return "\(scope.kind == .job ? "job" : scope.description) by \(by ?? "?")\(reason)"
        }

        var json: String {
            var writer = JSONObjectWriter()
            writer.string("scope", scope.kind.rawValue)
            writer.string("by", by)
            writer.string("reason", reason)
            writer.time("until", epochMilliseconds: until)
            return writer.text
        }
    }

    func run() async throws {
        try await AdminSession.with(connection) { session in
            let registry = JobKeys.registry(prefix: connection.prefix)
            let replies = try await session.everyServer(["HGETALL", registry], key: registry)
            try session.requireMajority(replies, to: "list jobs")
            var groups: [String: String] = [:]
            for reply in replies {
                guard case .success(let value) = reply.result, let fields = RunHistory.fields(value) else { continue }
                groups.merge(fields) { current, _ in current }
            }
            var states: [JobState] = []
            for (name, jobGroup) in groups.sorted(by: { $0.key < $1.key }) where groupOption.group == nil || groupOption.group == jobGroup {
                states.append(try await state(of: JobKeys(prefix: connection.prefix, group: jobGroup, name: name), in: session))
            }
            print(json ? Self.json(states) : Self.text(states))
        }
    }

    private func state(of keys: JobKeys, in session: AdminSession) async throws -> JobState {
        let replies = try await session.script(JobScripts.jobState, keys: [keys.job, keys.pauseAll, keys.pauseGroup, keys.pauseJob, keys.lock],
                                               arguments: [], readOnly: true)
        var state = JobState(keys: keys)
        var markers: [RunMarker] = []
        var pauses: [Pause: Int] = [:]
        let scopes = [PauseScope(kind: .all), PauseScope(kind: .group, group: keys.group), PauseScope(kind: .job, group: keys.group, job: keys.name)]
        for reply in replies {
            guard case .success(.array(let parts)) = reply.result, parts.count == 5 else { continue }
            let job = RunHistory.fields(parts[0]) ?? [:]
            if Int64(job["last_at"] ?? "") ?? 0 > Int64(state.last["last_at"] ?? "") ?? 0 { state.last = job }
            for (field, value) in job where field.hasPrefix("skips:") {
                state.skips[String(field.dropFirst(6)), default: 0] = max(state.skips[String(field.dropFirst(6))] ?? 0, Int(value) ?? 0)
            }
            if let marker = RunMarker(parts[4]) { markers.append(marker) }
            for (scope, part) in zip(scopes, parts[1...3]) {
                guard case .array(let pause) = part, let fields = RunHistory.fields(pause[0]), !fields.isEmpty else { continue }
                pauses[Pause(scope: scope, by: fields["by"], reason: fields["reason"] ?? "", until: fields["until"].flatMap { Int64($0) }), default: 0] += 1
            }
        }
        state.activity = JobActivity(markers, quorum: session.quorum)
        state.paused = pauses.first { $0.value >= session.quorum }?.key
        return state
    }

    static func text(_ states: [JobState]) -> String {
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
            return "\(state.keys.name)  [\(state.keys.group)]  \(now)  \(last)\(degraded)\(paused)"
        }.joined(separator: "\n")
    }

    /// The jobs in the JSON output schema (see the README's "JSON output").
    static func json(_ states: [JobState]) -> String {
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
