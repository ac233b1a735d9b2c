/// What the masters say about one job: its last finished run, who runs it now, its pause.
package struct JobState: Sendable {
    package var keys: JobKeys
    /// The job hash of the master with the newest finished run: `last_run`, `last_outcome`,
    /// `last_exit`, `last_host`, `last_at` (Unix ms), `last_duration_ms`.
    package var last: [String: String] = [:]
    /// The host whose run holds the lock on a majority, if any.
    package var runningHost: String?
    /// The pause in force on a majority (`job by alice@h: reason`), if any.
    package var paused: String?
    /// Runs skipped because the lock was held, per host (the highest count any master has).
    package var skips: [String: Int] = [:]

    package init(keys: JobKeys) {
        self.keys = keys
    }

    /// The last finished run's outcome (`ok`, `failed`, `timeout`, …), nil before the first.
    package var lastOutcome: String? { last["last_outcome"] }
    /// When the last finished run ended, in Unix milliseconds.
    package var lastFinishedAt: Int64? { last["last_at"].flatMap { Int64($0) } }
    /// How long the last finished run took, in milliseconds.
    package var lastDurationMilliseconds: Int64? { last["last_duration_ms"].flatMap { Int64($0) } }
}
