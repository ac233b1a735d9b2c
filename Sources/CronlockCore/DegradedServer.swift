import RedLock

/// A server that failed a run's acquisition, and why. A run that took the lock without every
/// server is *degraded*: it is safe, but one more failing server stops every job.
package struct DegradedServer: Sendable, Equatable {
    /// The server, as configured (password shown as `***`).
    package var server: String
    /// What happened there (`timed out`, `connection failed (Connection refused)`, …).
    package var reason: String

    /// The servers of `reports` that could not take part (not those that held another token).
    static func failing(in reports: [ServerReport]) -> [DegradedServer] {
        reports.filter(\.outcome.isFailure).map { DegradedServer(server: "\($0.server)", reason: "\($0.outcome)") }
    }

    /// `servers` as one event field: a line per server, its name and reason separated by a tab.
    static func field(_ servers: [DegradedServer]) -> String {
        servers.map { "\($0.server)\t\($0.reason)" }.joined(separator: "\n")
    }

    /// The servers of an event field written by `field(_:)`.
    static func parse(field: String) -> [DegradedServer] {
        field.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            return DegradedServer(server: String(parts[0]), reason: parts.count > 1 ? String(parts[1]) : "failed")
        }
    }

    /// `redis://10.0.1.1:6379: timed out; …`, for people.
    package static func summary(_ servers: [DegradedServer]) -> String {
        servers.map { "\($0.server): \($0.reason)" }.joined(separator: "; ")
    }

    /// What `failing` of `total` servers leave: how many more failures stop every job.
    static func consequence(failing: Int, of total: Int) -> String {
        let more = total - failing - RedLockClient.quorum(of: total) + 1
        return more <= 1 ? "one more failing server stops every job" : "\(more) more failing servers stop every job"
    }

    /// `[{"server":…,"reason":…}, …]`.
    static func json(_ servers: [DegradedServer]) -> String {
        JSONText.array(servers.map { JSONText.object([("server", JSONText.string($0.server)), ("reason", JSONText.string($0.reason))]) })
    }
}
