import CronlockCore

/// One run of a job, as the API's `Run` schema and the job page show it.
package struct RunView: Codable, Sendable, Equatable {
    package var run: String
    package var host: String
    package var command: String
    /// ISO 8601, UTC.
    package var startedAt: String
    package var finishedAt: String?
    package var durationMs: Int64?
    package var exitCode: Int?
    /// `ok`, `failed`, `timeout`, `lost`, `stopped`, `signal`, `running` or `unknown`.
    package var outcome: String
    package var stoppedBy: String?
    /// `cronlock stop --reason`, when it gave one.
    package var stopReason: String?
    /// The run's fencing token (absent with fencing off).
    package var fencingToken: UInt64?
    /// The masters that failed its acquisition (a degraded run); empty when every one took part.
    package var degraded: [DegradedView]
    /// The tail of the output, when the job ran with `--record-output`.
    package var output: String?

    init(_ run: RunSummary, runningNow: Bool) {
        self.run = run.run
        host = run.host
        command = run.command
        startedAt = WallClock.iso8601(epochMilliseconds: run.startedAt)
        finishedAt = run.finishedAt.map { WallClock.iso8601(epochMilliseconds: $0) }
        durationMs = run.durationMilliseconds
        exitCode = run.exitCode.flatMap { Int($0) }
        outcome = run.outcomeText(runningNow: runningNow)
        stoppedBy = run.stoppedBy
        stopReason = run.stopReason
        fencingToken = run.fencingToken
        degraded = run.degraded.map(DegradedView.init)
        output = run.output
    }
}
