import CoreMetrics
import Logging

/// How a `RedLockClient` talks to its servers and judges a lock. Every property has a documented
/// default; only `servers` is required. Timeouts, drift, retries and reconnect back-off, which few
/// callers change, are in `tuning`.
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

    /// Whether a release tells waiting contenders (Redis pub/sub on `redlock:released:<resource>`)
    /// rather than leaving them to find the key free at their next retry. Default `true`. Costs one
    /// extra connection per server, opened when a call first waits; needs the ACL rights
    /// `+subscribe +publish +pubsub|numsub` on `&redlock:released:*`. Notices are only a hint:
    /// waiters still poll every `tuning.retryDelay`. See the README's "Waiting for a holder".
    public var notifiesWaitersOnRelease: Bool = true

    /// Grants from servers without persistence that started recently are not counted (see
    /// `RestartGuard`). Default `.lockTTL`: for the acquiring call's TTL after a server's start.
    /// Servers that are all new (a fresh deployment) therefore grant nothing for that long.
    /// `.disabled` counts every grant.
    public var restartGuard: RestartGuard = .lockTTL

    /// Whether each acquisition gets a fencing token (`Lock.fencingToken`): for one resource,
    /// strictly greater than every token handed out before, whatever the clocks do, as long as no
    /// master forgets its fence (the README's Fencing gives the operating contract). When on, the
    /// acquire is one script call per master that also keeps a fence key beside the lock key
    /// (`<resource>:redlock.fence`, no TTL). Default `.off`: today's `SET … NX PX … GET`, no token.
    public var fencing: Fencing = .off

    /// The clock of the first fencing proposal, in µs since the epoch (a test seam). Default: the
    /// wall clock.
    package var fencingClock: @Sendable () -> UInt64 = FenceProposal.wallClockMicroseconds

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

    /// Timeouts, drift, retries and reconnect back-off. Default: `Tuning()`, every setting at its
    /// default.
    public var tuning = Tuning()

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
