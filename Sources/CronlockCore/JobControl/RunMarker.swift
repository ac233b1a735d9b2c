import RedLock
import RedisIO

/// A job's `running` marker on one master, as `JobScripts.currentRun` reads it.
struct RunMarker: Sendable, Hashable {
    var run: String
    var host: String
    /// Whether the lock still holds the value the run stored; false once it expired without a
    /// `finished` event (the run's host is presumed dead).
    var isLive: Bool

    /// The marker in a `{run, "running"|"unknown", host}` reply; nil for anything else (no marker).
    init?(_ reply: RedisReply) {
        guard case .array(let parts) = reply, parts.count == 3, let run = parts[0].text, let state = parts[1].text,
              let host = parts[2].text else { return nil }
        self.init(run: run, host: host, isLive: state == "running")
    }

    init(run: String, host: String, isLive: Bool) {
        self.run = run
        self.host = host
        self.isLive = isLive
    }

    /// The markers in the replies that succeeded.
    static func markers(in replies: [ServerReply]) -> [RunMarker] {
        replies.compactMap { reply in reply.result.value.flatMap(RunMarker.init) }
    }
}
