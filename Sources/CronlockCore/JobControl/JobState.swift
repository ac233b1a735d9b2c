/// What the masters say about one job: its last finished run, what it is doing now, its pause.
package struct JobState: Sendable {
    package var keys: JobKeys
    /// The job hash of the master with the newest finished run: `last_run`, `last_outcome`,
    /// `last_exit`, `last_host`, `last_at` (Unix ms), `last_duration_ms`, `last_degraded`.
    package var last: [String: String] = [:]
    /// What a majority of the masters' `running` markers say.
    package var activity = JobActivity.idle
    /// The pause in force on a majority, if any.
    package var paused: JobPause?
    /// Runs skipped because the lock was held, per host (the highest count any master has).
    package var skips: [String: Int] = [:]
    /// Finished runs per outcome (`ok`, `failed`, …), from every host (the highest count any master
    /// has: each counts the runs whose end reached it).
    package var runs: [String: Int] = [:]
    /// `--expect-every` of its last run.
    package var expectEvery: Duration?
    /// When its newest run started (Unix ms).
    package var lastStartedAt: Int64?

    package init(keys: JobKeys) {
        self.keys = keys
    }

    /// Its health as of `now` (Unix ms).
    package func health(now: Int64) -> JobHealth {
        JobHealth.of(paused: paused != nil, lastOutcome: lastOutcome, lastStartedAt: lastStartedAt, expectEvery: expectEvery, now: now)
    }

    /// The servers that failed the last finished run's acquisition.
    package var lastDegraded: [DegradedServer] {
        last["last_degraded"].map { DegradedServer.parse(field: $0) } ?? []
    }

    /// The last finished run's outcome (`ok`, `failed`, `timeout`, …), nil before the first.
    package var lastOutcome: String? { last["last_outcome"] }
    /// When the last finished run ended, in Unix milliseconds.
    package var lastFinishedAt: Int64? { last["last_at"].flatMap { Int64($0) } }
    /// How long the last finished run took, in milliseconds.
    package var lastDurationMilliseconds: Int64? { last["last_duration_ms"].flatMap { Int64($0) } }
}
