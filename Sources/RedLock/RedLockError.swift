/// The one error RedLock throws: a `code` to branch on, plus what happened on each server.
///
/// Branch on `code`:
///
/// ```swift
/// do {
///     let lock = try await client.acquire("reports:nightly", ttl: .seconds(30))
///     try await client.release(lock)
/// } catch let error as RedLockError where error.code == .heldElsewhere {
///     // someone else is on it: skip this run
/// }
/// ```
///
/// `description` says what went wrong, on which server, and what to do; it never contains a
/// password or a lock token.
public struct RedLockError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case heldElsewhere = "held elsewhere"
            case noQuorum = "no quorum"
            case notHeld = "not held"
            case lockLost = "lock lost"
            case cancelled
            case invalidConfiguration = "invalid configuration"
            case invalidArgument = "invalid argument"
            case clientShutDown = "client shut down"
            case refused
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Another holder has the lock on a majority (or, after all retries, votes stayed split
        /// between contenders). Nothing of ours was left on any server.
        public static let heldElsewhere = Code(.heldElsewhere)
        /// Fewer than a majority of servers answered usefully: unreachable, timed out, refused,
        /// auth failed, or answered an error. `servers` says which and why.
        public static let noQuorum = Code(.noQuorum)
        /// Release or extend found the lock's token on fewer than a majority: it expired or was
        /// taken over. Nothing was changed on servers that hold another token.
        public static let notHeld = Code(.notHeld)
        /// `withLock`: the lock could not be extended before its validity ran out (or its key
        /// vanished on a majority), so the body was cancelled.
        public static let lockLost = Code(.lockLost)
        /// The calling task was cancelled; anything acquired on the way was released.
        public static let cancelled = Code(.cancelled)
        /// The configuration or a server address is unusable; `message` says why.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// An argument of the call is unusable (empty resource, TTL ≤ 0, …); `message` says why.
        public static let invalidArgument = Code(.invalidArgument)
        /// The client was shut down before or during the call.
        public static let clientShutDown = Code(.clientShutDown)
        /// A tool's acquire script refused the lock (cronlock: the job is paused). Not retried.
        /// Never thrown by a `RedLockClient` made with the public initialiser.
        package static let refused = Code(.refused)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public internal(set) var code: Code
    /// The lock's resource name, when the error concerns one.
    public internal(set) var resource: String?
    /// A human-readable explanation of the failure, beyond the code.
    public internal(set) var message: String
    /// What happened on each server that took part, in configuration order.
    public internal(set) var servers: [ServerReport]

    /// An error with a code and explanation; `servers` defaults to none.
    package init(_ code: Code, _ message: String, resource: String? = nil, servers: [ServerReport] = []) {
        self.code = code
        self.message = message
        self.resource = resource
        self.servers = servers
    }

    public var description: String {
        var text = "redlock: \(code)"
        if let resource { text += " for \"\(resource)\"" }
        text += ": \(message)"
        // Servers not heard from matter when a majority was missing; otherwise they are noise.
        let hidden: [ServerOutcome.Kind] = code == .noQuorum ? [.granted] : [.granted, .notAwaited]
        let notable = servers.filter { !hidden.contains($0.outcome.kind) }
        if !notable.isEmpty {
            text += " [" + notable.map(\.description).joined(separator: "; ") + "]"
        }
        return text
    }
}

/// What one server did in one round: the server and its outcome.
public struct ServerReport: Sendable, Hashable, CustomStringConvertible {
    /// The server, as configured (its password is never printed).
    public internal(set) var server: RedisServerAddress
    /// What happened there.
    public internal(set) var outcome: ServerOutcome

    package init(server: RedisServerAddress, outcome: ServerOutcome) {
        self.server = server
        self.outcome = outcome
    }

    public var description: String {
        // Redis answers a SELECT beyond its `databases` with "ERR DB index is out of range".
        if outcome.kind == .authFailed, let detail = outcome.detail, detail.contains("DB index is out of range") {
            return "\(server): database \(server.database) does not exist on this server (\(detail))"
        }
        return "\(server): \(outcome)"
    }
}

/// What happened on one server in one round.
public struct ServerOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The kind of outcome.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The server granted what was asked (set, extended or deleted the key).
        public static let granted = Kind("granted")
        /// The key holds another holder's token.
        public static let heldByAnother = Kind("held by another holder")
        /// The key does not hold our token (expired, released, or never set there).
        public static let notHeld = Kind("not held")
        /// No reply within the per-server timeout; the connection was dropped and will be reopened.
        public static let timedOut = Kind("timed out")
        /// The connection could not be opened (refused, unreachable, unknown host).
        public static let connectionFailed = Kind("connection failed")
        /// The connection broke (closed by the server, reset, I/O error).
        public static let connectionClosed = Kind("connection closed")
        /// `AUTH` or `SELECT` was rejected: wrong password, unknown user, or bad database.
        public static let authFailed = Kind("authentication failed")
        /// The server answered with an error line (in `detail`).
        public static let serverError = Kind("server error")
        /// The server's reply was not valid Redis protocol (is it a Redis server?).
        public static let protocolError = Kind("protocol error")
        /// The server was skipped: it failed recently and its reconnect back-off has not passed.
        public static let backingOff = Kind("not asked, reconnecting after")
        /// The round was decided before this server answered; its command still ran in order.
        public static let notAwaited = Kind("not waited for: the round was decided without it")
        /// The server's acquire script refused the lock; `detail` says why (cronlock: job paused).
        /// Never seen by a `RedLockClient` made with the public initialiser.
        package static let refused = Kind("refused")
        /// The server granted, but its grant did not count: it restarted recently without
        /// persistence (`detail` says when; see `RestartGuard`). Its key is cleaned up or kept as
        /// any other's.
        public static let voteWithheld = Kind("vote not counted")
        /// The key was free, but the round's fencing proposal was not above this server's fence
        /// (`detail` gives the fence); nothing was written. The next round proposes above it.
        public static let fenceTooLow = Kind("fencing proposal not above its fence")
        /// `rediss://`: the server's certificate does not lead to a trusted CA (unknown or
        /// self-signed issuer); `detail` gives OpenSSL's reason.
        public static let certificateUntrusted = Kind("TLS certificate not trusted")
        /// `rediss://`: the server's certificate has expired or is not valid yet.
        public static let certificateExpired = Kind("TLS certificate expired or not yet valid")
        /// `rediss://`: the server's certificate is for another host name or address.
        public static let certificateNameMismatch = Kind("TLS certificate name mismatch")
        /// `rediss://`: the server refused our client certificate (or wanted one and got none).
        public static let clientCertificateRejected = Kind("TLS client certificate rejected")
        /// `rediss://`: the server answered in plain Redis protocol: the port has no TLS.
        public static let notTLS = Kind("not a TLS port")
        /// `rediss://`: the TLS handshake failed for another reason (protocol version, ciphers, closed).
        public static let tlsFailed = Kind("TLS handshake failed")
        /// `redis://`: the server closed the connection without a single reply, as a TLS-only port
        /// does when spoken to in plain text (use `rediss://`).
        public static let closedWithoutReply = Kind("closed without any reply (a TLS-only port? use rediss://)")

        public var description: String { name }
    }

    /// The kind of outcome.
    public internal(set) var kind: Kind
    /// Detail from the server or the socket: the error line, errno text, or the holder's token hidden.
    public internal(set) var detail: String?

    package init(_ kind: Kind, detail: String? = nil) {
        self.kind = kind
        self.detail = detail
    }

    /// True for outcomes that mean the server could not take part (not for `heldByAnother`/`notHeld`).
    public var isFailure: Bool {
        ![.granted, .heldByAnother, .notHeld, .notAwaited, .refused, .fenceTooLow].contains(kind)
    }

    public var description: String {
        switch (kind, detail) {
        case (.backingOff, let detail?): "\(kind): \(detail)"
        case (.protocolError, let detail?): "\(kind) (\(detail); not a Redis server?)"
        case (.protocolError, nil): "\(kind) (not a Redis server?)"
        case (.authFailed, let detail?) where detail.hasPrefix("NOAUTH"): "\(kind) (\(detail); the server wants a password and none was given)"
        case (_, let detail?): "\(kind) (\(detail))"
        case (_, nil): kind.description
        }
    }
}
