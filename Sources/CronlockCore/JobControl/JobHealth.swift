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

    /// How long after a run's start a job that expects one every `every` becomes late, in
    /// milliseconds: `every` plus its grace.
    static func lateAfter(_ every: Duration) -> Int64 {
        Int64(((every + grace(for: every)) / .milliseconds(1)).rounded(.up))
    }

    /// `expected every D, last started T` (`never` without a start), as `jobs` and `watch` print it.
    static func expectation(every: Duration, lastStartedAt: Int64?) -> String {
        let started = lastStartedAt.map { WallClock.iso8601(epochMilliseconds: $0) } ?? "never"
        return "expected every \(DurationText.text(every)), last started \(started)"
    }

    /// The health of a job paused or not, whose last finished run ended with `lastOutcome` (nil:
    /// none yet), whose newest run started at `lastStartedAt` (Unix ms; nil: unknown), that expects
    /// a run every `expectEvery` (nil: no expectation), judged at `now` (Unix ms).
    static func of(paused: Bool, lastOutcome: String?, lastStartedAt: Int64?, expectEvery: Duration?, now: Int64) -> JobHealth {
        if paused { return .paused }
        if let expectEvery {
            guard let lastStartedAt, now - lastStartedAt <= lateAfter(expectEvery) else { return .late }
        }
        if let lastOutcome, lastOutcome != RunOutcome.ok.rawValue { return .failing }
        return .ok
    }
}
