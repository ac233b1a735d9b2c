import ArgumentParser
import RedLock

/// `cronlock stop --key NAME [--reason TEXT]`: makes the host that runs NAME now stop it.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the run of a job that is executing now, on whichever host runs it.",
        discussion: """
            --group G: the job's group (default: its last run's). The host running it notices within about 250 ms, sends SIGTERM to the command's process group \
            (SIGKILL after its --kill-after), releases the lock, records outcome `stopped` with who asked, \
            and exits 80. This command waits up to --wait D (or forever; default 15s) for that to happen.

            Exit codes: 0 stopped; 1 the job is not running, or its run's lock expired without a finished \
            event (host presumed dead; said at once); 75 asked, but the run had not ended within \
            --wait; 69 no majority of masters answered; 77 a master's ACL denied it; 64 usage.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var groupOption: GroupOption
    @OptionGroup var waitOption: WaitOption

    @Option(help: "Why, recorded with the run's outcome.")
    var reason: String = ""

    /// How long to wait for the run to end: `--wait`, 15 s without it, nil for `forever`.
    private var waitLimit: Duration? {
        switch waitOption.wait {
        case nil: .seconds(15)
        case .upTo(let limit): limit
        case .forever: nil
        }
    }

    func validate() throws {
        _ = try connection.jobKeys(group: JobKeys.defaultGroup)
    }

    func run() async throws {
        try await AdminSession.with(connection) { session in try await stop(in: session) }
    }

    private func stop(in session: AdminSession) async throws {
        let name = try connection.jobKeys(group: JobKeys.defaultGroup).name
        let keys = try connection.jobKeys(group: try await session.group(of: name, explicit: groupOption.group))
        let runs = try await session.requestStop(keys, reason: reason, by: AdminSession.requester)
        let limit = waitLimit
        let deadline = limit.map { ContinuousClock.now + $0 }
        while deadline.map({ ContinuousClock.now < $0 }) ?? true {
            if try await session.hasFinished(runs, keys: keys) {
                print("stopped \(name) (run \(runs.sorted().joined(separator: ", ")))")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw JobControlError(CronlockExit.stopNotConfirmed,
                              "asked \(name) to stop (run \(runs.sorted().joined(separator: ", "))), but it had not ended within --wait (\(limit.map { "\($0)" } ?? "forever"))")
    }
}
