import ArgumentParser
import RedLock
import RedisIO

/// What `pause` and `resume` act on: one job, a group, or every job.
struct PauseTarget {
    let connection: ConnectionOptions
    let group: String?
    let all: Bool

    func validate() throws {
        let chosen = [connection.key != nil, group != nil && connection.key == nil, all].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("name what to act on: --key NAME [--group G], --group G, or --all") }
    }

    /// What the pause covers.
    func resolve(in session: AdminSession) async throws -> PauseScope {
        if all { return PauseScope(kind: .all) }
        if connection.key == nil, let group { return PauseScope(kind: .group, group: group) }
        let name = try connection.jobKeys(group: JobKeys.defaultGroup).name
        return .job(try connection.jobKeys(group: try await session.group(of: name, explicit: group)))
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
        let scope = try await target.resolve(in: session)
        let until = try await session.pause(scope, for: duration?.duration, reason: reason, by: AdminSession.requester)
        print("paused \(scope.description)\(until.map { " until \(WallClock.iso8601(epochMilliseconds: $0))" } ?? "")")
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
        let scope = try await target.resolve(in: session)
        let wasPaused = try await session.resume(scope, by: AdminSession.requester)
        print(wasPaused ? "resumed \(scope.description)" : "\(scope.description) was not paused")
    }
}
