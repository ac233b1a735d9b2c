/// Which recently restarted servers may not vote (see `RedLockConfiguration.restartGuard`).
///
/// A master without persistence comes back from a crash empty: a key it granted is gone while its
/// holder still counts on it, and granting it again would let a second holder in. So a grant from
/// a server that runs without AOF (`aof_enabled:0`) and started less than the guard's window ago
/// is not counted toward the majority. The server still answers (its key is cleaned up like any
/// other), and the call's `ServerReport` says why (`voteWithheld`, "restarted 3 s ago without
/// persistence"). The start is read from `INFO` when a connection opens, so a reconnect after a
/// restart reads it anew; since `uptime_in_seconds` counts whole wall-clock seconds, it is taken
/// at its latest (up to 2 s later than the real start, never earlier), so a freshly started server
/// may stay withheld up to 2 s past the window. A server that refuses `INFO` (an ACL without
/// `+info`) is not guarded.
public struct RestartGuard: Sendable, Hashable, CustomStringConvertible {
    private let minimum: Duration?
    private let followsTTL: Bool

    /// The default: a server is withheld for the acquiring call's TTL after its start. Safe as
    /// long as no holder of the same key keeps it longer than that TTL (a longer TTL elsewhere, or
    /// `release(_:keepingKeyFor:)` past the TTL, needs `atLeast`).
    public static let lockTTL = RestartGuard(minimum: nil, followsTTL: true)

    /// Withheld for the longer of the call's TTL and `duration` (the longest time any holder of
    /// the same keys keeps them: its TTL or a key kept after release). cronlock uses
    /// `atLeast(max(--ttl, --min-hold))`.
    public static func atLeast(_ duration: Duration) -> RestartGuard {
        RestartGuard(minimum: duration, followsTTL: true)
    }

    /// Every grant counts, whenever the server started. Only for servers with persistence, or
    /// whose operators keep a crashed master down for the longest TTL before it rejoins.
    public static let disabled = RestartGuard(minimum: nil, followsTTL: false)

    /// How long after its start a server's grants do not count, for a lock of `ttl`; nil when
    /// disabled.
    func window(ttl: Duration) -> Duration? {
        guard followsTTL else { return nil }
        return max(ttl, minimum ?? .zero)
    }

    public var description: String {
        guard followsTTL else { return "disabled" }
        return minimum.map { "the lock's TTL, at least \($0)" } ?? "the lock's TTL"
    }
}
