import ArgumentParser
import RedLock

/// `cronlock doctor [--key NAME] [--json]`: checks the masters against the operating contract.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the masters against the operating contract: reachable, authenticated, latency, version, eviction policy, persistence, restarts, clocks, duplicates, TLS certificate dates, and with --key the job's key and channel rights.",
        discussion: """
            Every master is asked at once. One line per finding with what to change. --ttl and --min-hold (the job's) set the \
            longest lock for the restart rule and the clock tolerance. With --key, the user's rights are checked on scratch keys \
            that the same script removes (and a scratch field of the job registry); nothing else is written. Channel rights \
            are asked with ACL DRYRUN (Redis 7), which runs nothing; a missing one is a warning. A rediss:// certificate \
            (the server's, or --tls-cert-file) that expires within 30 days is a warning; an expired one, a failure. \
            Exit 0 when all is well, 1 with warnings only, 69 with a failure.
            """)

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var groupOption: GroupOption

    /// `--ttl` and `--min-hold` are the root command's options.
    @ParentCommand var root: CronlockCommand

    @Flag(help: "Print a JSON array of findings instead of text.")
    var json = false

    func run() async throws {
        let logger = CronlockMain.makeLogger(connection)
        let configuration = try connection.configuration(environment: ProcessEnvironment.current(), logger: logger)
        let rights = try connection.key.map { _ in try connection.jobKeys(group: groupOption.group ?? JobKeys.defaultGroup) }
        let facts = await withTaskGroup(of: (Int, ServerFacts).self) { group in
            for (index, server) in configuration.servers.enumerated() {
                group.addTask { (index, await DoctorProbe.facts(of: server, configuration: configuration, rights: rights)) }
            }
            return await group.reduce(into: [ServerFacts?](repeating: nil, count: configuration.servers.count)) { $0[$1.0] = $1.1 }
        }.compactMap { $0 }
        let rules = DoctorRules(ttl: root.ttl.duration, minimumHold: root.minHold.duration, job: connection.key)
        let findings = rules.findings(facts)
        print(json ? JSONText.array(findings.map(\.json)) : findings.map(\.text).joined(separator: "\n"))
        switch findings.map(\.severity).max() ?? .ok {
        case .ok: return
        case .warning: throw ExitCode(1)
        case .failure: throw ExitCode(CronlockExit.noQuorum)
        }
    }
}
