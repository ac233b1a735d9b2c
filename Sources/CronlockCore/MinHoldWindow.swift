import RedLock

#if canImport(Glibc)
import Glibc
#endif

/// A lock kept for `--min-hold` after its command ended: what `status` reports instead of a bare
/// "held". Decided from the holder (its identity's host and start time), the key's TTL on the
/// servers that hold it, and each master's job record (`running`, `last_host`, `last_at`).
struct MinHoldWindow: Equatable {
    /// When the holder's command finished, in milliseconds since the epoch.
    var commandFinishedAt: Int64
    /// When the key stops being held by a majority, in milliseconds since the epoch.
    var keptUntil: Int64

    /// The window, when a majority of job records say the holder's run has ended (no run is
    /// `running`, and the last one ended on the holder's host after the holder started); else nil.
    /// - Parameters:
    ///   - identity: the holder's identity, `host=… pid=… started=<ISO-8601>`.
    ///   - timesToLive: the key's remaining TTL on each server that holds it for this holder.
    ///   - jobs: each answering master's job record.
    ///   - quorum: how many servers make a majority.
    ///   - now: milliseconds since the epoch.
    static func find(identity: String, timesToLive: [Duration], jobs: [[String: String]], quorum: Int, now: Int64) -> MinHoldWindow? {
        var fields: [Substring: Substring] = [:]
        for pair in identity.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard let host = fields["host"].map(String.init),
              let started = fields["started"].flatMap({ epochMilliseconds(iso8601: String($0)) }) else { return nil }
        let endings = jobs.compactMap { job -> Int64? in
            guard job["running"] == nil, job["last_host"] == host, let at = job["last_at"].flatMap({ Int64($0) }), at >= started else { return nil }
            return at
        }
        let remaining = timesToLive.sorted(by: >)
        guard endings.count >= quorum, remaining.count >= quorum, let finished = endings.max() else { return nil }
        return MinHoldWindow(commandFinishedAt: finished, keptUntil: now + remaining[quorum - 1].millisecondsRoundedUp)
    }

    /// `2026-11-23T12:00:00.123Z` (as `WallClock` writes it) in milliseconds since the epoch.
    static func epochMilliseconds(iso8601 text: String) -> Int64? {
        let separators: Set<Character> = ["-", "T", ":", ".", "Z"]
        let parts = text.split(whereSeparator: separators.contains).compactMap { Int32($0) }
        guard text.hasSuffix("Z"), parts.count == 7 else { return nil }
        var time = tm()
        time.tm_year = parts[0] - 1900
        time.tm_mon = parts[1] - 1
        time.tm_mday = parts[2]
        time.tm_hour = parts[3]
        time.tm_min = parts[4]
        time.tm_sec = parts[5]
        return Int64(timegm(&time)) * 1000 + Int64(parts[6])
    }
}
