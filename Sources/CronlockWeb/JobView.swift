import CronlockCore

/// One job as the API's `Job` schema and the Jobs page's row show it.
package struct JobView: Codable, Sendable, Equatable {
    package var name: String
    package var group: String
    /// What the row shows, most urgent first: `failing`, `late`, `paused`, `unknown`, `running`,
    /// `new` (no finished run yet) or `ok`.
    package var state: String
    /// `cronlock jobs`'s health: `ok`, `late`, `failing` or `paused`.
    package var health: String
    /// What it does now: `idle`, `running`, or `unknown` (a run's lock expired without a
    /// `finished` event: its host is presumed dead).
    package var activity: String
    /// Whether the state needs a person's attention (failing, late, paused, unknown).
    package var attention: Bool
    package var lastRun: LastRun?
    /// The host whose run holds the lock on a majority of masters.
    package var runningOn: String?
    /// The run that is running now, or that is presumed dead (`activity` says which), and its host.
    package var runId: String?
    package var host: String?
    /// The pause in force (`job by alice@h: reason`).
    package var paused: String?
    /// `--expect-every` of its last run, in milliseconds.
    package var expectEveryMs: Int64?
    /// When its newest run started (ISO 8601, UTC).
    package var lastStartedAt: String?
    /// Runs skipped because another host held the lock, per host.
    package var skips: [String: Int]
    /// The job's page, relative to the dashboard's root.
    package var url: String

    /// The last finished run.
    package struct LastRun: Codable, Sendable, Equatable {
        package var run: String
        package var outcome: String
        package var exitCode: Int?
        package var host: String
        /// ISO 8601, UTC.
        package var finishedAt: String
        package var durationMs: Int64?
        /// The masters that failed its acquisition (a degraded run); empty when every one took part.
        package var degraded: [DegradedView]
    }

    /// The job of `state`, its health judged at `now` (Unix ms).
    init(_ state: JobState, now: Int64) {
        name = state.keys.name
        group = state.keys.group
        paused = state.paused?.text
        skips = state.skips
        url = "/jobs/" + PathText.escaped(state.keys.name)
        expectEveryMs = state.expectEvery.map { Int64($0 / .milliseconds(1)) }
        lastStartedAt = state.lastStartedAt.map { WallClock.iso8601(epochMilliseconds: $0) }
        lastRun = state.lastOutcome.map { outcome in
            LastRun(run: state.last["last_run"] ?? "", outcome: outcome, exitCode: state.last["last_exit"].flatMap { Int($0) },
                    host: state.last["last_host"] ?? "",
                    finishedAt: WallClock.iso8601(epochMilliseconds: state.lastFinishedAt ?? 0),
                    durationMs: state.lastDurationMilliseconds, degraded: state.lastDegraded.map(DegradedView.init))
        }
        switch state.activity {
        case .idle: activity = "idle"
        case .running(let run, let host): (activity, runId, self.host, runningOn) = ("running", run, host, host)
        case .unknown(let run, let host): (activity, runId, self.host) = ("unknown", run, host)
        }
        let health = state.health(now: now)
        self.health = health.rawValue
        self.state = switch health {
        case .failing, .late, .paused: health.rawValue
        case .ok: activity != "idle" ? activity : state.lastOutcome == nil ? "new" : "ok"
        }
        attention = health != .ok || activity == "unknown"
    }

    /// What needs attention first: failing, late, paused, unknown, running, new, ok; then by group
    /// and name. Sort by this key.
    static func attentionKey(_ job: JobView) -> (Int, String, String) {
        let order = ["failing", "late", "paused", "unknown", "running", "new", "ok"]
        return (order.firstIndex(of: job.state) ?? 9, job.group, job.name)
    }
}
