import RedLock

/// What `cronlock doctor` learned from one master.
struct ServerFacts: Sendable, Equatable {
    /// The master as configured, password hidden.
    var server: String
    /// Why it could not be used (unreachable, authentication failed), or nil.
    var failure: String?
    /// The kind of `failure` (e.g. `.certificateExpired`), when the library reported one.
    var failureKind: ServerOutcome.Kind?
    /// Round-trip time of a `PING` on an open connection.
    var latency: Duration?
    /// The `INFO` fields (`redis_version`, `run_id`, `uptime_in_seconds`, `aof_enabled`,
    /// `maxmemory`, `maxmemory_policy`, …).
    var info: [String: String] = [:]
    /// `CONFIG GET appendfsync`, or nil when the user may not read it.
    var appendfsync: String?
    /// The master's clock minus this host's (`TIME`, against the midpoint of the round trip).
    var clockOffset: Duration?
    /// The `NOPERM` (or other error) of the rights check, nil when it passed or was not made.
    var rightsProblem: String?
    /// Whether the rights check ran (it needs `--key`).
    var rightsChecked = false
    /// The job's channel rights (`ACL DRYRUN`, Redis 7 and later); nil when not asked.
    var channelRights: ChannelRights?
    /// For a `rediss://` master: the dates of its certificate and of ours; nil for plain TCP.
    var certificates: ServerTLSCertificates?
    /// This host's wall clock when the master was asked, in seconds since the Unix epoch (what
    /// certificate dates are compared with).
    var askedAtSeconds: Int64 = 0

    /// `INFO` text as fields: `name:value` lines, sections and comments skipped.
    static func fields(ofInfo text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// `redis_version` as (major, minor), or nil.
    var version: (major: Int, minor: Int)? {
        let parts = (info["redis_version"] ?? "").split(separator: ".").compactMap { Int($0) }
        return parts.count >= 2 ? (parts[0], parts[1]) : nil
    }

    static func == (lhs: ServerFacts, rhs: ServerFacts) -> Bool {
        lhs.server == rhs.server && lhs.failure == rhs.failure && lhs.info == rhs.info && lhs.appendfsync == rhs.appendfsync
            && lhs.clockOffset == rhs.clockOffset && lhs.rightsProblem == rhs.rightsProblem && lhs.latency == rhs.latency
            && lhs.failureKind == rhs.failureKind && lhs.channelRights == rhs.channelRights && lhs.certificates == rhs.certificates
            && lhs.askedAtSeconds == rhs.askedAtSeconds
    }
}
