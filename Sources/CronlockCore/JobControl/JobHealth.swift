/// Whether a job is doing what it should, as `cronlock jobs` shows it: `paused` (by `cronlock
/// pause`), `late` (it declared `--expect-every D` and no run started within D plus the grace),
/// `failing` (its last run's outcome was not `ok`), else `ok`. Late wins over failing: a job that
/// stopped running is the more urgent news.
package enum JobHealth: String, Sendable, Equatable, CaseIterable {
    case ok, late, failing, paused

    /// The slack after `every` before a job counts as late: 10% of it, at least a minute (at least
    /// `every` itself when that is shorter than a minute).
    static func grace(for every: Duration) -> Duration {
        max(every / 10, min(every, .seconds(60)))
    }

    /// The health of a job paused or not, whose last finished run ended with `lastOutcome` (nil:
    /// none yet), whose newest run started at `lastStartedAt` (Unix ms; nil: unknown), that expects
    /// a run every `expectEvery` (nil: no expectation), judged at `now` (Unix ms).
    static func of(paused: Bool, lastOutcome: String?, lastStartedAt: Int64?, expectEvery: Duration?, now: Int64) -> JobHealth {
        if paused { return .paused }
        if let expectEvery {
            let limit = expectEvery + grace(for: expectEvery)
            let limitMilliseconds = Int64((limit / .milliseconds(1)).rounded(.up))
            guard let lastStartedAt, now - lastStartedAt <= limitMilliseconds else { return .late }
        }
        if let lastOutcome, lastOutcome != RunOutcome.ok.rawValue { return .failing }
        return .ok
    }
}
