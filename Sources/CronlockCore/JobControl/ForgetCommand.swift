import ArgumentParser
import RedLock
import RedisIO

/// `cronlock forget --key NAME | --group G`: removes a job's history and state (or those of every
/// job of a group) from every master, leaving any job that is running untouched.
struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove a job's history and state from every master (--key NAME), or those of every job of a group (--group G).",
        discussion: """
            Removes the job's runs, its record (last outcome, skips), a pending stop request, its own pause \
            and its entry in `jobs`, on every master. Its lock key is left to expire by itself. A job that \
            is running is not touched: stop it, or wait until it ends. With --key, --group G names the job's \
            group (default: its last run's); --group G alone forgets every job of that group.

            Exit codes: 0 forgotten on a majority of masters; 75 a job is running (nothing of it was \
            removed); 69 no majority of masters answered; 77 a master's ACL denied it; 64 usage.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var groupOption: GroupOption

    func validate() throws {
        guard connection.key != nil || groupOption.group != nil else {
            throw ValidationError("name what to forget: --key NAME [--group G], or --group G")
        }
        if connection.key != nil { _ = try connection.jobKeys(group: JobKeys.defaultGroup) }
    }

    func run() async throws {
        try await AdminSession.with(connection) { session in
            var running = false
            for keys in try await jobs(in: session) {
                if let busy = try await forget(keys, in: session) {
                    running = true
                    CronlockMain.printError("\(busy); not forgotten")
                }
            }
            if running { throw ExitCode(CronlockExit.jobRunning) }
        }
    }

    /// The jobs to forget: `--key`'s, or every job the registry lists in `--group`.
    private func jobs(in session: AdminSession) async throws -> [JobKeys] {
        if connection.key != nil {
            let name = try connection.jobKeys(group: JobKeys.defaultGroup).name
            return [try connection.jobKeys(group: try await session.group(of: name, explicit: groupOption.group))]
        }
        let group = groupOption.group ?? JobKeys.defaultGroup
        let registry = JobKeys.registry(prefix: connection.prefix)
        let replies = try await session.everyServer(["HGETALL", registry], key: registry)
        try session.requireMajority(replies, to: "list the jobs of group \(group)")
        let names = Set(replies.flatMap { reply -> [String] in
            guard case .success(let value) = reply.result, let fields = RunHistory.fields(value) else { return [] }
            return fields.filter { $0.value == group }.map(\.key)
        })
        if names.isEmpty { print("no jobs recorded in group \(group)") }
        return names.sorted().map { JobKeys(prefix: connection.prefix, group: group, name: $0) }
    }

    /// Forgets one job on every master; returns why not when one of its runs is running.
    private func forget(_ keys: JobKeys, in session: AdminSession) async throws -> String? {
        let job = "job \(keys.name) (group \(keys.group))"
        // Looked at first on every master, so that a running job loses nothing anywhere.
        let current = try await session.script(JobScripts.currentRun, keys: [keys.job, keys.lock], arguments: [], readOnly: true)
        try session.requireMajority(current, to: "forget \(job)")
        if let live = RunMarker.markers(in: current).first(where: \.isLive) {
            return "\(job) is running on \(live.host) (run \(live.run))"
        }
        let replies = try await session.script(JobScripts.forget, keys: [keys.job, keys.history, keys.stop, keys.pauseJob, keys.registry, keys.lock, keys.late],
                                               arguments: [keys.name, keys.group])
        try session.requireMajority(replies, to: "forget \(job)")
        if let live = RunMarker.markers(in: replies).first(where: \.isLive) {
            return "\(job) started on \(live.host) (run \(live.run)) while it was being forgotten; the masters it ran on kept it"
        }
        let removed = replies.contains { if case .success(.integer(let count)) = $0.result { count > 0 } else { false } }
        print(removed ? "forgot \(job)" : "nothing recorded of \(job)")
        return nil
    }
}
