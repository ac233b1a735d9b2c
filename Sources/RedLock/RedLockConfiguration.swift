import CoreMetrics
import Logging

/// How a `RedLockClient` talks to its servers and judges a lock. Every property has a documented
/// default; only `servers` is required.
public struct RedLockConfiguration: Sendable {
    /// The independent Redis masters (not replicas of each other). A lock needs ⌊N/2⌋ + 1 of them.
    /// An odd count is best; an even count is accepted, with a warning, since it tolerates no more
    /// failures than one server fewer.
    public var servers: [RedisServerAddress]

    /// TLS settings for the `rediss://` servers (a server's own `RedisServerAddress.tls` takes
    /// precedence). Default: verify against the system trust store, no client certificate.
    public var tls = TLS()

    /// The password for servers whose address carries none (e.g. read from a file or the
    /// environment, so it never has to appear on a command line). Default `nil`.
    public var password: String?

    /// Each server's budget per round: a server that has not answered by then counts as failed
    /// for that round, and its connection is replaced. Rounds are decided by the first majority,
    /// so this bounds how long a hung *majority* can hold a call up. Default `nil`: 1/10 of the
    /// call's TTL, between 1 ms and 1 s.
    public var serverTimeout: Duration?

    /// The least validity an acquisition must leave to count as a grant: a round that took so
    /// long that less is left releases the lock and fails (retried as any failed round). Default
    /// `nil`: a tenth of the call's TTL, at least 1 ms. A round that answers within the default
    /// `serverTimeout` (TTL/10) always leaves more; the minimum only turns away the grants a slow
    /// round returns when `serverTimeout` is set near the TTL, whose few milliseconds would expire
    /// before the caller could act or extend (`withLock` extends at TTL/3).
    public var minimumValidity: Duration?

    /// The share of the TTL assumed lost to clock drift between hosts. Default 0.01.
    public var driftFactor: Double = 0.01

    /// Added to the drift for timer granularity. Default 2 ms.
    /// Validity = TTL − elapsed − (TTL × `driftFactor` + `driftAllowance`).
    public var driftAllowance: Duration = .milliseconds(2)

    /// How many rounds one `acquire` without waiting may run when rounds fail for reasons that
    /// may pass (votes split between contenders, servers unreachable). Default 3. A key that another
    /// holder has on a majority is not retried unless the call waits.
    public var retryAttempts: Int = 3

    /// The pause between rounds, jittered uniformly in [½×, 1½×] so contenders spread out.
    /// At least 1 ms. Default 100 ms.
    public var retryDelay: Duration = .milliseconds(100)

    /// Whether a release tells waiting contenders (Redis pub/sub, as Redisson does) rather than
    /// leaving them to find the key free at their next retry. Default `true`.
    ///
    /// When on, `release` publishes on the channel `redlock:released:<resource>` of every server it
    /// deleted the key on, and an `acquire` that waits for another holder subscribes to that
    /// channel on every server. That takes one extra connection per server, opened on first use
    /// and kept until `shutdown()`. Of the callers of one client waiting on a key, a notice wakes
    /// the one waiting longest; with K clients waiting, each answers a notice with probability 2/K,
    /// so one release starts about two rounds rather than K.
    ///
    /// Notices are only a hint: waiters still retry after `retryDelay` without one. Those polls
    /// are what find the key free when a notice is not answered or not sent:
    /// - a holder crashed (its key expires unannounced);
    /// - the key was kept on by `release(_:keepingKeyFor:)`;
    /// - the holder has this setting off;
    /// - the subscriber connection failed (it is retried after `maximumReconnectDelay`);
    /// - the ACL user may not subscribe (releases still succeed).
    ///
    /// Subscribing needs the ACL rights `+subscribe +publish +pubsub|numsub` and the channel
    /// pattern `&redlock:released:*`. Channels are shared by a server's databases, so one key name
    /// locked in several databases gives spurious wake-ups, each costing one round.
    public var notifiesWaitersOnRelease: Bool = true

    /// The first delay before reconnecting to a server that failed; it doubles after each
    /// consecutive failure up to `maximumReconnectDelay`. While it runs, the server is skipped.
    /// Default 50 ms.
    public var minimumReconnectDelay: Duration = .milliseconds(50)

    /// The longest reconnect back-off. Default 2 s.
    public var maximumReconnectDelay: Duration = .seconds(2)

    /// Grants from servers without persistence that started recently are not counted (see
    /// `RestartGuard`). Default `.lockTTL`: for the acquiring call's TTL after a server's start.
    /// Servers that are all new (a fresh deployment) therefore grant nothing for that long.
    /// `.disabled` counts every grant.
    public var restartGuard: RestartGuard = .lockTTL

    /// Who this client is, stored with every lock's token (the key holds `token|identity`) so that
    /// `inspect` can say who holds a lock, e.g. `host=web-3 pid=4121 started=2026-11-23T10:00:00Z`.
    /// Never a secret: anyone who can read the key sees it. Default `nil`: the key holds the token only.
    public var holderIdentity: String?

    /// The background logger, for events that belong to no call (connections, reconnects). The
    /// library logs at `debug` and `trace` only, plus one `warning` for an even number of servers.
    /// Default: a logger that discards everything.
    public var logger: Logger = Logger(label: "redlock", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Where metrics go; `nil` (the default) uses the process-wide `MetricsSystem.factory`.
    /// Recorded: `redlock.acquire.duration` (timer, dimension `result`), `redlock.locks.lost`
    /// (counter), and per server `redlock.server.latency` (timer) and `redlock.server.errors`
    /// (counter), both with dimension `server`.
    public var metricsFactory: (any MetricsFactory)?

    /// A configuration for `servers`, with every other setting at its default.
    public init(servers: [RedisServerAddress]) {
        self.servers = servers
    }

    /// A configuration from address strings (see `RedisServerAddress` for the forms).
    ///
    /// - Throws: `RedLockError` `.invalidConfiguration` naming the first malformed address.
    public init(serverAddresses: [String]) throws(RedLockError) {
        var servers: [RedisServerAddress] = []
        for text in serverAddresses { servers.append(try RedisServerAddress(parsing: text)) }
        self.init(servers: servers)
    }
}
