import ArgumentParser

/// The run options of job control: group, history, output, failure detection, notify.
package struct JobOptions: ParsableArguments, Sendable {
    @OptionGroup package var groupOption: GroupOption
    /// `--group`; the job-control subcommands read the same value through their own `GroupOption`.
    package var group: String? { groupOption.group }

    @Flag(help: "Take the lock only: no pause check, history, events or remote stop.")
    package var noJobControl = false

    @Option(parsing: .unconditional, help: "Runs kept in the job's history on each master (a stream trimmed on write).")
    package var historySize: Int = 1000

    @Option(help: ArgumentHelp("Keep the last SIZE bytes of COMMAND's stdout and stderr in its history (e.g. 4096, 4k, 1M; at most 1M).",
                               discussion: "COMMAND's output still reaches cronlock's stdout and stderr, through a pipe."),
            transform: ByteCount.init(parsing:))
    package var recordOutput: ByteCount?

    @Option(help: "Mark the run failed (exit 81 when COMMAND exited 0) when the tail of its output matches this regular expression.")
    package var failPattern: String?

    @Option(help: ArgumentHelp("Run this shell command after the run (sh -c), with CRONLOCK_KEY, CRONLOCK_JOB, CRONLOCK_GROUP, CRONLOCK_RUN_ID, CRONLOCK_PID, CRONLOCK_OUTCOME, CRONLOCK_EXIT_CODE, CRONLOCK_HOST, CRONLOCK_STARTED_AT, CRONLOCK_FINISHED_AT, CRONLOCK_DURATION_MS (and CRONLOCK_OUTPUT with --record-output, CRONLOCK_STOPPED_BY and CRONLOCK_STOP_REASON after a stop, CRONLOCK_DEGRADED after a run without every server) in its environment.",
                               valueName: "CMD"))
    package var notify: String?

    /// `nil` when not given (then `failure`), so that `--notify-on` without `--notify` is caught.
    @Option(help: "When to run --notify: failure (any outcome but ok), degraded (a failure, or a run that took the lock without every server), change (ok to not ok, or back to ok) or always. (default: failure)",
            transform: { try ConnectionOptions.choice($0, among: NotifyPlan.When.allCases, for: "--notify-on value") })
    var notifyOn: NotifyPlan.When?

    @Option(parsing: .unconditional, help: "Stop --notify after D; it never changes the run's exit code. (default: 30s)", transform: DurationText.init(parsing:))
    package var notifyTimeout: DurationText = DurationText(argument: "30s")!

    @Option(parsing: .unconditional, help: ArgumentHelp("Try a failed run (non-zero exit, --fail-pattern, --timeout) up to N more times, still holding the lock. (default: 0)",
                               discussion: "A lost lock, a stop or a signal is never retried. The exit code is the last attempt's; the run's history lists every attempt.",
                               valueName: "N"))
    package var retry: Int = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Wait D before the first retry, doubling before each further one (at most 10m). (default: 10s)", valueName: "D"),
            transform: DurationText.init(parsing:))
    package var retryDelay: DurationText = DurationText(argument: "10s")!

    @Option(parsing: .unconditional, help: ArgumentHelp("The job should start at least every D (e.g. 1h); stored with the job when it runs.",
                               discussion: "cronlock jobs then shows it late when no run started within D plus a grace of 10% of D (at least 1m, or D when D is shorter), and jobs --overdue exits 1.",
                               valueName: "D"),
            transform: DurationText.init(parsing:))
    package var expectEvery: DurationText?

    @Option(help: ArgumentHelp("After each run (or skip), write DIR/cronlock_<job>.prom for node_exporter's textfile collector.",
                               valueName: "DIR"))
    package var metricsTextfile: String?

    package init() {}

    package func validate() throws {
        guard (1...1_000_000).contains(historySize) else { throw ValidationError("--history-size must be 1 to 1000000 runs, not \(historySize)") }
        if failPattern?.isEmpty == true { throw ValidationError("--fail-pattern is empty: it would mark every run failed; give a regular expression") }
        if let failPattern, let problem = FailPattern.problem(with: failPattern) { throw ValidationError(problem) }
        if notifyOn != nil, notify == nil { throw ValidationError("--notify-on needs --notify CMD, the command to run after the run") }
        guard notifyTimeout.duration > .zero else { throw ValidationError("--notify-timeout must be positive") }
        if let group, let problem = JobKeys.problem(withGroup: group) { throw ValidationError("--group: \(problem)") }
        if let expectEvery { guard expectEvery.duration >= .seconds(1) else { throw ValidationError("--expect-every must be at least 1s, not \(expectEvery)") } }
        if let metricsTextfile, let problem = MetricsTextfile.problem(with: metricsTextfile) { throw ValidationError(problem) }
        guard (0...RetryPolicy.maximumRetries).contains(retry) else { throw ValidationError("--retry must be 0 to \(RetryPolicy.maximumRetries), not \(retry)") }
    }

    var retryPolicy: RetryPolicy { RetryPolicy(retries: retry, delay: retryDelay.duration) }

    var notifyPlan: NotifyPlan? {
        notify.map { NotifyPlan(command: $0, when: notifyOn ?? .failure, timeout: notifyTimeout.duration) }
    }
}

/// A size in bytes as written on the command line: `4096`, `4k`, `64K`, `1M` (powers of 1024).
package struct ByteCount: Sendable, Equatable {
    /// The largest size accepted: 1 MiB.
    static let maximum = 1 << 20

    package let bytes: Int

    init(parsing text: String) throws {
        let multipliers: [Character: Int] = ["k": 1024, "K": 1024, "m": 1 << 20, "M": 1 << 20]
        var digits = Substring(text)
        var multiplier = 1
        if let last = digits.last, let value = multipliers[last] {
            multiplier = value
            digits = digits.dropLast()
        }
        guard let count = Int(digits), count > 0, count <= Self.maximum / multiplier else {
            throw ValidationError("\"\(text)\" is not a size from 1 byte to 1M (e.g. 4096, 4k, 1M)")
        }
        bytes = count * multiplier
    }
}
