/// Who holds a resource, as each server sees it: the answer to `RedLockClient.inspect`.
public struct LockInspection: Sendable, CustomStringConvertible {
    /// One server's view of the key.
    public struct ServerState: Sendable, CustomStringConvertible {
        /// The server (its password is never printed).
        public internal(set) var server: RedisServerAddress
        /// `granted` when the server answered (whatever the key holds); otherwise why it could not.
        public internal(set) var outcome: ServerOutcome
        /// The holder there, or `nil` when the key is absent (or the server did not answer).
        public internal(set) var holder: Holder?
        /// The key's remaining TTL on that server, when it is held.
        public internal(set) var timeToLive: Duration?

        /// The server, what it said and the holder there; never a password or a token.
        public var description: String {
            guard outcome.kind == .granted else { return "\(server): \(outcome)" }
            guard let holder else { return "\(server): free" }
            return "\(server): held by \(holder)" + (timeToLive.map { " for \($0)" } ?? "")
        }
    }

    /// A holder, identified by the token it stored (never shown) and its identity, if it gave one.
    public struct Holder: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
        /// The holder's `RedLockConfiguration.holderIdentity`, or `nil` when it stored none.
        public internal(set) var identity: String?
        let storedValue: String

        init(storedValue: String) {
            self.storedValue = storedValue
            let parts = storedValue.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            identity = parts.count == 2 ? String(parts[1]) : nil
        }

        /// The identity, or "an unidentified holder"; never the token.
        public var description: String { identity ?? "an unidentified holder" }

        /// Shows the identity only, so `dump` keeps the token out too.
        public var customMirror: Mirror { Mirror(self, children: ["identity": identity as Any]) }
    }

    /// The overall reading.
    public enum Verdict: Sendable, Equatable {
        /// One holder has the key on a majority.
        case heldByMajority(Holder)
        /// A majority answered and none of them has the key.
        case free
        /// Too few servers answered, or no holder has a majority (a split, or keys expiring).
        case unknown
    }

    /// The resource inspected.
    public internal(set) var resource: String
    /// Each server's view, in configuration order.
    public internal(set) var servers: [ServerState]
    /// The overall reading.
    public internal(set) var verdict: Verdict
    /// True when a majority of servers answered.
    public internal(set) var majorityAnswered: Bool

    init(resource: String, servers: [ServerState], quorum: Int) {
        self.resource = resource
        self.servers = servers
        let answered = servers.filter { $0.outcome.kind == .granted }
        majorityAnswered = answered.count >= quorum
        let counts = Dictionary(answered.compactMap(\.holder).map { ($0, 1) }, uniquingKeysWith: +)
        if let (holder, count) = counts.max(by: { $0.value < $1.value }), count >= quorum {
            verdict = .heldByMajority(holder)
        } else if answered.filter({ $0.holder == nil }).count >= quorum {
            verdict = .free
        } else {
            verdict = .unknown
        }
    }

    /// The verdict, then each server's view; never a password or a token (as `Lock`'s).
    public var description: String {
        let verdict = switch self.verdict {
        case .heldByMajority(let holder): "\"\(resource)\" is held by a majority (\(holder))"
        case .free: "\"\(resource)\" is free"
        case .unknown: "\"\(resource)\" is in an unknown state"
        }
        return verdict + " [" + servers.map(\.description).joined(separator: "; ") + "]"
    }
}
