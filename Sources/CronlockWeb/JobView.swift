import CronlockCore

/// One job as the API's `Job` schema and the Jobs page's row show it.
package struct JobView: Codable, Sendable, Equatable {
    package var name: String
    package var group: String
    /// `failing`, `paused`, `running`, `ok`, or `new` (no finished run yet).
    package var state: String
    /// Whether the state needs a person's attention (failing, or paused).
    package var attention: Bool
    package var lastRun: LastRun?
    /// The host whose run holds the lock on a majority of masters.
    package var runningOn: String?
    /// The pause in force (`job by alice@h: reason`).
    package var paused: String?
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
    }

    init(_ state: JobState) {
        name = state.keys.name
        group = state.keys.group
        runningOn = state.runningHost
        paused = state.paused
        skips = state.skips
        url = "/jobs/" + PathText.escaped(state.keys.name)
        lastRun = state.lastOutcome.map { outcome in
            LastRun(run: state.last["last_run"] ?? "", outcome: outcome, exitCode: state.last["last_exit"].flatMap { Int($0) },
                    host: state.last["last_host"] ?? "",
                    finishedAt: WallClock.iso8601(epochMilliseconds: state.lastFinishedAt ?? 0),
                    durationMs: state.lastDurationMilliseconds)
        }
        let failing = state.lastOutcome.map { $0 != "ok" } ?? false
        self.state = failing ? "failing" : state.paused != nil ? "paused" : state.runningHost != nil ? "running"
            : state.lastOutcome == nil ? "new" : "ok"
        attention = failing || state.paused != nil
    }

    /// What needs attention first: failing, paused, running, new, ok; then by name.
    static func attentionFirst(_ left: JobView, _ right: JobView) -> Bool {
        let order = ["failing", "paused", "running", "new", "ok"]
        let (a, b) = (order.firstIndex(of: left.state) ?? 9, order.firstIndex(of: right.state) ?? 9)
        return a != b ? a < b : (left.group, left.name) < (right.group, right.name)
    }
}
