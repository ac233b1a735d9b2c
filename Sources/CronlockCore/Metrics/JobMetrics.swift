/// One job's metrics on this host, in the Prometheus text format for node_exporter's textfile
/// collector: the last run's facts as gauges, and counters of runs, skips and lock errors that
/// carry on from the previous file. Pure: `MetricsTextfile` reads and writes the file.
struct JobMetrics: Sendable, Equatable {
    /// How one invocation of cronlock went, for the metrics.
    enum Invocation: Sendable {
        /// It took the lock and ran (or tried to run) the command.
        case ran(RunRecord.Ending)
        /// Another host held the lock, or the job was paused.
        case skipped
        /// No majority could be asked (servers down, refusing, bad configuration).
        case lockError
    }

    let job: String
    let group: String
    let host: String
    /// Every value by series: the metric name, plus `/outcome` for the outcome series.
    private(set) var values: [String: Double] = [:]

    /// The metrics of `job`, carrying on from `previous` (the text of the last file), if any.
    init(job: String, group: String, host: String, previous: String?) {
        self.job = job
        self.group = group
        self.host = host
        for line in (previous ?? "").split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            let outcome = series.firstRange(of: "outcome=\"").map { series[$0.upperBound...].prefix { $0 != "\"" } }
            values[outcome.map { "\(name)/\($0)" } ?? name] = value
        }
    }

    /// Records an invocation that waited `lockWait` for the lock (or until it gave up), of a job
    /// that expects a run every `expectEvery` (nil: no expectation).
    mutating func record(_ invocation: Invocation, lockWait: Duration, expectEvery: Duration?) {
        values["cronlock_job_lock_wait_seconds"] = lockWait / .seconds(1)
        if let expectEvery { values["cronlock_job_expected_interval_seconds"] = expectEvery / .seconds(1) }
        switch invocation {
        case .skipped:
            values["cronlock_job_skips_total", default: 0] += 1
        case .lockError:
            values["cronlock_job_lock_errors_total", default: 0] += 1
        case .ran(let ending):
            values["cronlock_job_runs_total", default: 0] += 1
            values["cronlock_job_last_start_timestamp_seconds"] = Double(ending.startedAt) / 1000
            values["cronlock_job_last_end_timestamp_seconds"] = Double(ending.finishedAt) / 1000
            values["cronlock_job_last_duration_seconds"] = Double(ending.durationMilliseconds) / 1000
            values["cronlock_job_last_exit_code"] = Double(ending.exitCode)
            values["cronlock_job_last_attempts"] = Double(max(1, ending.attempts.count))
            for outcome in RunOutcome.allCases {
                values["cronlock_job_last_outcome/\(outcome.rawValue)"] = outcome == ending.outcome ? 1 : 0
            }
            if ending.outcome == .ok { values["cronlock_job_last_success_timestamp_seconds"] = Double(ending.finishedAt) / 1000 }
        }
    }

    /// The metric families, in the order written: name, type, help.
    private static let families: [(String, String, String)] = [
        ("cronlock_job_last_start_timestamp_seconds", "gauge", "When this host's last run of the job took the lock (Unix time)."),
        ("cronlock_job_last_end_timestamp_seconds", "gauge", "When this host's last run of the job ended (Unix time)."),
        ("cronlock_job_last_duration_seconds", "gauge", "How long this host's last run of the job held the command running."),
        ("cronlock_job_last_exit_code", "gauge", "cronlock's exit code for this host's last run of the job."),
        ("cronlock_job_last_outcome", "gauge", "1 for the outcome of this host's last run of the job, 0 for the others."),
        ("cronlock_job_last_success_timestamp_seconds", "gauge", "When this host's last run of the job with outcome ok ended (Unix time)."),
        ("cronlock_job_last_attempts", "gauge", "Attempts of this host's last run of the job (--retry)."),
        ("cronlock_job_lock_wait_seconds", "gauge", "How long this host's last invocation of the job waited for the lock (or until it gave up)."),
        ("cronlock_job_expected_interval_seconds", "gauge", "The job's --expect-every: it should start at least this often."),
        ("cronlock_job_runs_total", "counter", "Runs of the job started on this host."),
        ("cronlock_job_skips_total", "counter", "Invocations of the job on this host that skipped (held elsewhere, or paused)."),
        ("cronlock_job_lock_errors_total", "counter", "Invocations of the job on this host that could not ask a majority of masters."),
    ]

    /// The file's text: `# HELP`, `# TYPE` and the samples of every family that has a value.
    var text: String {
        let labels = "job=\"\(Self.escaped(job))\",group=\"\(Self.escaped(group))\""
        var lines: [String] = []
        for (name, type, help) in Self.families {
            let samples: [(String, Double)]
            if name == "cronlock_job_last_outcome" {
                samples = RunOutcome.allCases.compactMap { outcome in
                    values["\(name)/\(outcome.rawValue)"].map { ("\(name){\(labels),outcome=\"\(outcome.rawValue)\"}", $0) }
                }
            } else if type == "counter" {
                samples = values[name].map { [("\(name){\(labels),host=\"\(Self.escaped(host))\"}", $0)] } ?? []
            } else {
                samples = values[name].map { [("\(name){\(labels)}", $0)] } ?? []
            }
            guard !samples.isEmpty else { continue }
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"] + samples.map { "\($0.0) \(Self.number($0.1))" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A label value escaped as the text format requires: `\`, `"` and newlines.
    private static func escaped(_ value: String) -> String {
        var text = ""
        for character in value {
            switch character {
            case "\\": text += "\\\\"
            case "\"": text += "\\\""
            case "\n": text += "\\n"
            default: text.append(character)
            }
        }
        return text
    }

    /// Whole numbers without a fraction; others as Swift prints them (millisecond timestamps).
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
