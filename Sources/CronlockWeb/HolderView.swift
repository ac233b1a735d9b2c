import RedLock

/// What one master says about a job's lock: the API's `Holder` schema.
package struct HolderView: Codable, Sendable, Equatable {
    /// The master's address (a password in it shows as `***`).
    package var server: String
    /// `held`, `free` or `error`.
    package var state: String
    /// The holder's identity (`host=… pid=… started=…`), never its token.
    package var holder: String?
    /// The key's remaining time to live, in milliseconds.
    package var ttlMs: Int64?
    /// Why the master gave no answer.
    package var error: String?

    init(_ state: LockInspection.ServerState) {
        server = "\(state.server)"
        switch (state.outcome.kind, state.holder) {
        case (.granted, let holder?):
            self.state = "held"
            self.holder = holder.identity
            ttlMs = state.timeToLive.map { Int64($0 / .milliseconds(1)) }
        case (.granted, nil):
            self.state = "free"
        default:
            self.state = "error"
            error = "\(state.outcome)"
        }
    }
}
