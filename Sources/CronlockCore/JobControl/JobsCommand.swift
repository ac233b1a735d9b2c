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
        var runningHost: String?
        var paused: String?
        var skips: [String: Int] = [:]
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
        var holders: [String: Int] = [:]
        var pauses: [String: Int] = [:]
        for reply in replies {
            guard case .success(.array(let parts)) = reply.result, parts.count == 5 else { continue }
            let job = RunHistory.fields(parts[0]) ?? [:]
            if Int64(job["last_at"] ?? "") ?? 0 > Int64(state.last["last_at"] ?? "") ?? 0 { state.last = job }
            for (field, value) in job where field.hasPrefix("skips:") {
                state.skips[String(field.dropFirst(6)), default: 0] = max(state.skips[String(field.dropFirst(6))] ?? 0, Int(value) ?? 0)
            }
            if case .integer(let ttl) = parts[4], ttl > 0 || ttl == -1, let host = job["running_host"] { holders[host, default: 0] += 1 }
            for (scope, part) in zip(["every job", "group \(keys.group)", "job"], parts[1...3]) {
                guard case .array(let pause) = part, let fields = RunHistory.fields(pause[0]), !fields.isEmpty else { continue }
                let reason = fields["reason"].flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""
                pauses["\(scope) by \(fields["by"] ?? "?")\(reason)", default: 0] += 1
            }
        }
        state.runningHost = holders.first { $0.value >= session.quorum }?.key
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
