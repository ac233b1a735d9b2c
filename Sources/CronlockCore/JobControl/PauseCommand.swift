import ArgumentParser
import RedLock

/// What `pause` and `resume` act on: one job, a group, or every job.
struct PauseTarget {
    let connection: ConnectionOptions
    let group: String?
    let all: Bool

    func validate() throws {
        let chosen = [connection.key != nil, group != nil && connection.key == nil, all].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("name what to act on: --key NAME [--group G], --group G, or --all") }
    }

    /// The pause key, its events channel, and what it covers.
    func resolve(in session: AdminSession) async throws -> (key: String, channel: String, scope: PauseScope) {
        let prefix = connection.prefix
        if all { return (JobKeys.pauseAll(prefix: prefix), JobKeys.events(prefix: prefix, group: "@all"), PauseScope(kind: .all)) }
        if connection.key == nil, let group {
            return (JobKeys.pauseGroup(prefix: prefix, group: group), JobKeys.events(prefix: prefix, group: group), PauseScope(kind: .group, group: group))
        }
        let name = try connection.jobKeys(group: JobKeys.defaultGroup).name
        let keys = try connection.jobKeys(group: try await session.group(of: name, explicit: group))
        return (keys.pauseJob, keys.events, PauseScope(kind: .job, group: keys.group, job: name))
    }
}

/// `cronlock pause`: runs of the job, group or every job skip with exit 0 until resumed (or until
/// `--for` has passed). Written to every master; succeeds when a majority has it.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a job, a group (--group) or every job (--all): their runs skip with exit 0.",
        discussion: "--group G (before or after the subcommand) names the group to pause, or the job's group (default: its last run's). Exit 0 when a majority of masters has the pause, 69 when not, 77 when a master's ACL denies it, 64 on bad input.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var groupOption: GroupOption

    @Flag(help: "Every job under --prefix (maintenance mode).")
    var all = false

    var target: PauseTarget { PauseTarget(connection: connection, group: groupOption.group, all: all) }

    @Option(name: .customLong("for"), parsing: .unconditional, help: "Resume by itself after D (500ms, 30s, 5m, 1h).", transform: DurationText.init(parsing:))
    var duration: DurationText?

    @Option(help: "Why, shown to runs that skip and in `jobs`.")
    var reason: String = ""

    func validate() throws {
        try target.validate()
        if let duration, duration.duration <= .zero { throw ValidationError("--for must be positive, not \(duration)") }
    }

    func run() async throws {
        try await AdminSession.with(target.connection) { session in try await pause(in: session) }
    }

    private func pause(in session: AdminSession) async throws {
        let (key, channel, scope) = try await target.resolve(in: session)
        let now = WallClock.epochMilliseconds()
        let milliseconds = duration.map { $0.duration.millisecondsRoundedUp } ?? 0
        var fields = [("by", AdminSession.requester), ("reason", reason), ("at", String(now))]
        if milliseconds > 0 { fields.append(("until", String(now + milliseconds))) }
        let event = JSONText.object(([("event", "paused")] + scope.eventFields + fields).map { ($0.0, JSONText.string($0.1)) })
        let replies = try await session.script(JobScripts.pause, keys: [key],
                                               arguments: [String(milliseconds), channel, event] + JobRecorder.flatten(fields))
        try session.requireMajority(replies, to: "pause \(scope.description)")
        let until = milliseconds > 0 ? " until \(WallClock.iso8601(epochMilliseconds: now + milliseconds))" : ""
        print("paused \(scope.description)\(until)")
    }
}

/// `cronlock resume`: ends a pause made by `pause` with the same target.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a job, a group (--group) or every job (--all) paused by `cronlock pause`.",
        discussion: "--group G names the group to resume, or the job's group (default: its last run's). Exit 0 when a majority of masters answered (paused or not), 69 when not, 77 when a master's ACL denies it, 64 on bad input.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var groupOption: GroupOption

    @Flag(help: "Every job under --prefix (maintenance mode).")
    var all = false

    var target: PauseTarget { PauseTarget(connection: connection, group: groupOption.group, all: all) }

    func validate() throws {
        try target.validate()
    }

    func run() async throws {
        try await AdminSession.with(target.connection) { session in try await resume(in: session) }
    }

    private func resume(in session: AdminSession) async throws {
        let (key, channel, scope) = try await target.resolve(in: session)
        let fields = [("event", "resumed")] + scope.eventFields + [("by", AdminSession.requester), ("at", String(WallClock.epochMilliseconds()))]
        let event = JSONText.object(fields.map { ($0.0, JSONText.string($0.1)) })
        let replies = try await session.script(JobScripts.resume, keys: [key], arguments: [channel, event])
        try session.requireMajority(replies, to: "resume \(scope.description)")
        let wasPaused = replies.contains { if case .success(.integer(1)) = $0.result { true } else { false } }
        print(wasPaused ? "resumed \(scope.description)" : "\(scope.description) was not paused")
    }
}
