import RedLock

/// A job that declared `--expect-every` and did not start in time, as `cronlock-web` announces it:
/// the `late` event on the job's channel (`event`, `at`, `key`, `group`, `expect_every_ms`,
/// `last_started_at`, all strings as the scripts publish events) and the environment of
/// `--notify-late`. Every field follows from the masters' state, so each master, and every
/// dashboard, publishes the same text (watchers show it once).
package struct LateEvent: Sendable, Equatable {
    package let keys: JobKeys
    package let expectEvery: Duration
    /// When the job's newest run started (Unix ms); nil when none was recorded.
    package let lastStartedAt: Int64?
    /// When it became late (Unix ms): that start plus `expectEvery` and its grace.
    package let at: Int64

    /// The lateness of `state` as of `now` (Unix ms), or nil when it is not `late` (a paused job is not).
    package init?(_ state: JobState, now: Int64) {
        guard let every = state.expectEvery, state.health(now: now) == .late else { return nil }
        keys = state.keys
        expectEvery = every
        lastStartedAt = state.lastStartedAt
        at = state.lastStartedAt.map { $0 + JobHealth.lateAfter(every) } ?? now
    }

    /// Which lateness this is: a job is late once per start it missed the next one after.
    var identity: String { String(lastStartedAt ?? 0) }

    /// The event's fields, as the scripts store and publish events.
    var fields: [(String, String)] {
        [("event", "late"), ("at", String(at)), ("key", keys.name), ("group", keys.group),
         ("expect_every_ms", String(Int64(expectEvery / .milliseconds(1))))]
            + (lastStartedAt.map { [("last_started_at", String($0))] } ?? [])
    }

    /// The event as published on the job's channel.
    var payload: String {
        JSONText.object(fields.map { ($0.0, JSONText.string($0.1)) })
    }

    /// The environment of `--notify-late`: the event's names in the JSON output schema, in capitals
    /// after `CRONLOCK_` (`CRONLOCK_EVENT=late`, `CRONLOCK_JOB`, `CRONLOCK_KEY`, `CRONLOCK_GROUP`,
    /// `CRONLOCK_AT`, `CRONLOCK_EXPECT_EVERY_MS`, `CRONLOCK_LAST_STARTED_AT` when known).
    package var facts: [String: String] {
        var facts = [
            "CRONLOCK_EVENT": "late", "CRONLOCK_JOB": keys.name, "CRONLOCK_KEY": keys.lock, "CRONLOCK_GROUP": keys.group,
            "CRONLOCK_AT": WallClock.iso8601(epochMilliseconds: at),
            "CRONLOCK_EXPECT_EVERY_MS": String(Int64(expectEvery / .milliseconds(1))),
        ]
        if let lastStartedAt { facts["CRONLOCK_LAST_STARTED_AT"] = WallClock.iso8601(epochMilliseconds: lastStartedAt) }
        return facts
    }
}
