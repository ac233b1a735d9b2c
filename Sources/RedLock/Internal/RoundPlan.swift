import RedisIO
/// The numbers one call works with, derived from the configuration and the call's arguments, and
/// validated once so every round can trust them.
struct RoundPlan: Sendable {
    let key: String
    let ttl: Duration
    let ttlMilliseconds: Int64
    /// Each server's budget per round.
    let serverTimeout: Duration
    /// Subtracted from the TTL to get validity: `ttl × driftFactor + driftAllowance`.
    let drift: Duration
    /// Servers that must agree: ⌊N/2⌋ + 1.
    let quorum: Int
    /// How long after its start a server without persistence may not vote (nil: no guard).
    let restartWindow: Duration?
    /// The least validity an acquisition must leave to count.
    let minimumValidity: Duration
    /// Whether grants carry a fencing token, and which servers may vote for one.
    let fencing: Fencing

    /// The longest resource name accepted, in UTF-8 bytes.
    static let maximumResourceLength = 4096
    /// The longest TTL accepted.
    static let maximumTTL = Duration.seconds(365 * 24 * 3600)

    /// A tenth of the TTL, between 1 ms and 1 s: long enough for a loaded host, short enough that
    /// a hung majority is noticed well within the lock's life. Rounds never wait for a hung
    /// minority, so a generous value costs nothing while a majority is healthy.
    static func defaultServerTimeout(ttl: Duration) -> Duration {
        min(.seconds(1), max(.milliseconds(1), ttl / 10))
    }

    /// What validity loses to clock drift: `ttl × driftFactor + driftAllowance`.
    private static func drift(ttl: Duration, configuration: RedLockConfiguration) -> Duration {
        ttl * configuration.driftFactor + configuration.driftAllowance
    }

    /// A plan for reading a key (no TTL of its own): the configured server timeout, or 1 s.
    static func reading(_ resource: String, configuration: RedLockConfiguration) throws(RedLockError) -> RoundPlan {
        let timeout = configuration.serverTimeout ?? .seconds(1)
        return try RoundPlan(resource: resource, ttl: timeout * 100, serverTimeout: timeout, configuration: configuration)
    }

    init(resource: String, ttl: Duration, configuration: borrowing RedLockConfiguration) throws(RedLockError) {
        try self.init(resource: resource, ttl: ttl, serverTimeout: nil, configuration: configuration)
    }

    /// A plan for extending a lock that stays valid for `remaining`: unless a timeout is configured,
    /// servers may take up to that long (at least the usual default), since an answer that comes
    /// while the lock is still valid is still good. Never longer than `remaining`, configured or
    /// not: an answer after the lock's validity is worthless, and waiting for one would keep a
    /// `withLock` body running without a valid lock.
    static func extending(_ resource: String, ttl: Duration, remaining: Duration, configuration: RedLockConfiguration) throws(RedLockError) -> RoundPlan {
        let validity = ttl - drift(ttl: ttl, configuration: configuration) - .milliseconds(1)
        let timeout = configuration.serverTimeout ?? max(defaultServerTimeout(ttl: ttl), validity)
        return try RoundPlan(resource: resource, ttl: ttl, serverTimeout: max(.milliseconds(1), min(timeout, remaining)), configuration: configuration)
    }

    private init(resource: String, ttl: Duration, serverTimeout: Duration?, configuration: borrowing RedLockConfiguration) throws(RedLockError) {
        guard !resource.isEmpty else {
            throw RedLockError(.invalidArgument, "the resource name is empty; name the lock")
        }
        guard resource.utf8.count <= Self.maximumResourceLength else {
            throw RedLockError(.invalidArgument, "the resource name is \(resource.utf8.count) bytes; the limit is \(Self.maximumResourceLength)")
        }
        guard ttl > .zero else {
            throw RedLockError(.invalidArgument, "the TTL must be positive, not \(ttl)", resource: resource)
        }
        guard ttl <= Self.maximumTTL else {
            throw RedLockError(.invalidArgument, "the TTL \(ttl) exceeds the limit of 365 days", resource: resource)
        }
        let drift = Self.drift(ttl: ttl, configuration: configuration)
        let configuredTimeout = configuration.serverTimeout
        let serverTimeout = serverTimeout ?? configuredTimeout ?? Self.defaultServerTimeout(ttl: ttl)
        guard drift + serverTimeout < ttl else {
            throw RedLockError(
                .invalidArgument,
                "the TTL \(ttl) is too small: the clock-drift allowance (\(drift)) and the per-server timeout (\(serverTimeout)) would leave no validity",
                resource: resource)
        }
        self.key = resource
        self.ttl = ttl
        self.ttlMilliseconds = ttl.millisecondsRoundedUp
        self.serverTimeout = serverTimeout
        self.drift = drift
        self.quorum = QuorumTally.majority(of: configuration.servers.count)
        self.restartWindow = configuration.restartGuard.window(ttl: ttl)
        self.minimumValidity = configuration.minimumValidity ?? max(.milliseconds(1), ttl / 10)
        self.fencing = configuration.fencing
    }
}
