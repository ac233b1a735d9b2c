import RedisIO
/// Who a server is and since when it has been up, as its handshake's `INFO server` and
/// `INFO persistence` said. Decides two things: whether two configured addresses are one server
/// (one vote, not two), and whether a recent restart withholds its vote (see `RestartGuard`).
struct ServerIdentity: Sendable, Equatable {
    /// The server process's `run_id`: new on every start.
    let runID: String
    /// The database the address selects.
    let database: Int
    /// When the server started, as late as its uptime allows, so a restart is never taken for older
    /// than it is: `uptime_in_seconds` is the difference of two truncated wall-clock seconds (now
    /// and the start), so it overstates the real uptime by up to 1 s (a server started at x.9 s
    /// reads 1 at x+1.0 s). The start is taken as handshake time − (`uptime_in_seconds` − 1 s).
    let upSince: ContinuousClock.Instant
    /// `aof_enabled`: the server reloads its keys after a restart.
    let appendOnly: Bool

    /// Whether `other` is the same server under another address, in any database: two databases
    /// of one server fail together, so they must not be two votes.
    func isSameServer(as other: ServerIdentity) -> Bool {
        runID == other.runID
    }

    /// Why a grant from this server must not count at `now`, or nil when it counts: a server
    /// without persistence that started less than `window` ago may have forgotten a key that a
    /// holder still relies on.
    func withheldVote(at now: ContinuousClock.Instant, window: Duration?) -> String? {
        guard let window, !appendOnly, now - upSince < window else { return nil }
        let seconds = Int((now - upSince) / .seconds(1))
        return "restarted \(seconds) s ago without persistence; it votes again \(Self.text(window)) after its start (restart guard)"
    }

    /// The fields of an `INFO` reply (`name:value` lines).
    static func fields(ofInfo text: String) -> [Substring: Substring] {
        var fields: [Substring: Substring] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        return fields
    }

    /// The identity from the replies to `INFO server` and `INFO persistence`, received at `now`;
    /// nil when either lacks a field (not a Redis server, or a proxy that hides them).
    init?(server: String, persistence: String, database: Int, receivedAt now: ContinuousClock.Instant) {
        let serverFields = Self.fields(ofInfo: server), persistenceFields = Self.fields(ofInfo: persistence)
        guard let runID = serverFields["run_id"], !runID.isEmpty,
              let uptime = serverFields["uptime_in_seconds"].flatMap({ Int64($0) }), uptime >= 0,
              let aof = persistenceFields["aof_enabled"] else { return nil }
        self.runID = String(runID)
        self.database = database
        self.upSince = now - .seconds(max(0, uptime - 1))
        self.appendOnly = aof == "1"
    }

    init(runID: String, database: Int, upSince: ContinuousClock.Instant, appendOnly: Bool) {
        self.runID = runID
        self.database = database
        self.upSince = upSince
        self.appendOnly = appendOnly
    }

    /// "30 s", "500 ms".
    private static func text(_ duration: Duration) -> String {
        duration >= .seconds(1) && duration.components.attoseconds == 0
            ? "\(duration.components.seconds) s" : "\(duration.millisecondsRoundedUp) ms"
    }
}
