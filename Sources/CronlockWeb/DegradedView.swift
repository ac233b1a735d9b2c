import CronlockCore

/// A master that failed a run's acquisition, and why, as the API's `Degraded` schema shows it.
package struct DegradedView: Codable, Sendable, Equatable {
    /// The master, as configured (password shown as `***`).
    package var server: String
    /// `timed out`, `connection failed (Connection refused)`, …
    package var reason: String

    init(_ degraded: DegradedServer) {
        server = degraded.server
        reason = degraded.reason
    }
}
