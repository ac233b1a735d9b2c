/// One master's health: the API's `Master` schema and the Masters page's row.
package struct MasterView: Codable, Sendable, Equatable {
    /// The master's address (a password in it shows as `***`).
    package var server: String
    package var up: Bool
    /// The time of one `INFO` round trip, in milliseconds.
    package var latencyMs: Double?
    package var version: String?
    package var uptimeSeconds: Int?
    /// Whether the append-only file is on.
    package var aof: Bool?
    /// Seconds since the last RDB save, and whether it succeeded.
    package var lastSaveAgoSeconds: Int?
    package var lastSaveOk: Bool?
    package var maxmemoryPolicy: String?
    /// Why the master did not answer.
    package var error: String?
}
