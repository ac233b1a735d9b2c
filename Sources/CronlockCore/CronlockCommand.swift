import ArgumentParser
import Logging
import RedLock

/// `cronlock [options] --key NAME -- COMMAND [ARGS...]`: runs COMMAND on exactly one host per tick.
package struct CronlockCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "cronlock",
        abstract: "Run a command on exactly one host at a time, under a lock held on a majority of Redis masters (Redlock).",
        usage: """
            cronlock [options] --key NAME -- COMMAND [ARGS...]
              cronlock status --key NAME [--json]
              cronlock history|jobs|pause|resume|stop|watch|forget ...   (job control; see their --help)
              cronlock demo
            """,
        discussion: """
            Put the same line in every host's crontab: `0 * * * * cronlock --key job -- job.sh`. One host \
            takes the lock and runs COMMAND directly (no shell; write sh -c '...' for one), with stdin, \
            stdout and stderr passed through, in its own process group, with CRONLOCK_KEY, \
            CRONLOCK_RUN_ID and CRONLOCK_FENCING_TOKEN (see --fencing) in its environment (and never CRONLOCK_PASSWORD). The others skip quietly. The lock is renewed every TTL/3 while COMMAND runs, and \
            kept until --min-hold after it was taken, so hosts whose clocks lag a few seconds skip too.

            Signals TERM, INT and HUP are forwarded to COMMAND's process group; cronlock waits for it, \
            releases, and exits 128+n. If cronlock is killed, COMMAND is killed with it.

            Exit codes:
              COMMAND's own   it ran (128+n if it died of signal n)
              75              held elsewhere: skipped, or --wait ran out (change with -E)
              69              no quorum: servers down, refusing, failing auth or erroring (with --wait: for
                              --wait-unreachable, default 10m)
              64              usage or configuration error
              79              lock lost while COMMAND ran; its process group was killed
              80              stopped by `cronlock stop` from some host
              81              COMMAND exited 0 but its output matched --fail-pattern
              0               the job is paused (cronlock pause): skipped
              124             --timeout passed; COMMAND was stopped
              126 / 127       COMMAND not executable / not found
            """,
        version: CronlockVersion.current,
        subcommands: [StatusCommand.self, DemoCommand.self, HistoryCommand.self, JobsCommand.self, PauseCommand.self,
                      ResumeCommand.self, StopCommand.self, WatchCommand.self, ForgetCommand.self, ConfigCommand.self, DoctorCommand.self])

    @OptionGroup package var connection: ConnectionOptions

    @Option(parsing: .unconditional, help: "Lock TTL (500ms, 30s, 5m, 1h); renewed about every TTL/3 while COMMAND runs. (default: 30s)",
            transform: DurationText.init(parsing:))
    package var ttl: DurationText = DurationText(argument: "30s")!

    @OptionGroup package var waitOption: WaitOption

    @Option(parsing: .unconditional, help: ArgumentHelp("With --wait: give up (exit 69) once no majority of servers has answered for D, or never with 'forever'. (default: 10m)",
                               discussion: "Meanwhile cronlock warns (at --log-level warning) what is wrong, at once and then at growing intervals, and retries with back-off."),
            transform: WaitText.init(parsing:))
    package var waitUnreachable: WaitText = .upTo(.seconds(600))

    @Option(parsing: .unconditional, help: ArgumentHelp("Keep the lock until D after it was taken, even if COMMAND ends sooner; 0s disables. (default: 20s)",
                               discussion: "Counted by each Redis server (token-checked PEXPIRE), not by host clocks. The default 20s makes a minutely job that ends in 2 s run once even when hosts' clocks differ by up to ~15 s; keep it below your schedule's interval minus clock skew."),
            transform: DurationText.init(parsing:))
    package var minHold: DurationText = DurationText(argument: "20s")!

    @Option(parsing: .unconditional, help: "Stop COMMAND after D: SIGTERM to its process group, SIGKILL after --kill-after; exit 124.",
            transform: DurationText.init(parsing:))
    package var timeout: DurationText?

    @Option(parsing: .unconditional, help: "Grace between SIGTERM and SIGKILL when --timeout stops COMMAND. (default: 10s)", transform: DurationText.init(parsing:))
    package var killAfter: DurationText = DurationText(argument: "10s")!

    @Option(help: ArgumentHelp("Fencing: required, best-effort or off. (default: $CRONLOCK_FENCING, else best-effort)",
                               discussion: "With fencing on, COMMAND gets CRONLOCK_FENCING_TOKEN: a decimal that is greater for every run than for every run before it. 'required' counts only masters that run with AOF."),
            transform: { try ConnectionOptions.choice($0, among: FencingChoice.allCases, for: "fencing mode") })
    var fencing: FencingChoice?

    @Option(name: [.customShort("E"), .customLong("conflict-exit-code")], parsing: .unconditional, help: "Exit code when the lock is held elsewhere.")
    package var conflictExitCode: Int32 = CronlockExit.heldElsewhere

    @OptionGroup(title: "Job control") package var job: JobOptions

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    package var command: [String] = []

    package init() {}

    /// The shortest `--ttl`: below it a renewal (every TTL/3) could not finish in time.
    static let minimumTTL = Duration.milliseconds(100)

    /// Checked in `run()`, not `validate()`: ArgumentParser validates the root command on the way to
    /// a subcommand too, and `status`/`demo` need no command to run.
    private func validateRun() throws {
        _ = try connection.redisKey()
        guard let name = command.first, !name.isEmpty else { throw ValidationError("missing the command to run: cronlock --key NAME -- COMMAND [ARGS...]") }
        guard ttl.duration >= Self.minimumTTL else {
            throw ValidationError("--ttl \(ttl) is too small: at least 100ms, since the lock is renewed every TTL/3 and each renewal takes a round trip to the servers")
        }
        if let timeout { guard timeout.duration > .zero else { throw ValidationError("--timeout must be positive, not \(timeout)") } }
        if waitUnreachable.duration.map({ $0 <= .zero }) == true { throw ValidationError("--wait-unreachable must be positive or forever") }
        guard (0...255).contains(conflictExitCode) else { throw ValidationError("-E/--conflict-exit-code must be 0 to 255") }
        try job.validate()
    }

    package func run() async throws {
        try validateRun()
        let logger = CronlockMain.makeLogger(connection)
        var configuration = try connection.configuration(environment: ProcessEnvironment.current(), logger: logger)
        // A master that restarted without persistence may have lost a key a run still relies on:
        // its TTL, or the --min-hold a finished run's key is kept for. It does not vote for that long.
        configuration.restartGuard = .atLeast(max(ttl.duration, minHold.duration))
        configuration.fencing = try FencingChoice.resolve(fencing, environment: ProcessEnvironment.current())
        let request = try CronlockRun.Request(
            key: connection.redisKey(),
            configuration: configuration,
            ttl: ttl.duration, wait: waitOption.wait, waitUnreachable: waitUnreachable.duration, minimumHold: minHold.duration, timeout: timeout?.duration,
            killAfter: killAfter.duration, conflictExitCode: conflictExitCode, command: command, logger: logger,
            jobKeys: connection.jobKeys(group: job.group ?? JobKeys.defaultGroup), jobControl: !job.noJobControl, historyRuns: job.historySize,
            recordOutput: job.recordOutput?.bytes, failPattern: job.failPattern, notify: job.notifyPlan, retry: job.retryPolicy, expectEvery: job.expectEvery?.duration,
            metrics: job.metricsTextfile.map(MetricsTextfile.init(directory:)))
        let code = await CronlockRun.execute(request, signals: .shared)
        if code != 0 { throw ExitCode(code) }
    }
}
