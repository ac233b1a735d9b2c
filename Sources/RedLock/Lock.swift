/// A lock held on a majority of servers, as returned by `acquire` and `extend`.
///
/// The lock is yours only until `validUntil`: after that another client may take it, whatever
/// your code is doing. The `token` (the holder token) is unique to this acquisition; pass it to
/// the resource you protect for a check-and-set when a paused process must not act on a lock it no
/// longer holds. It is random, not ordered, so it is not a fencing token: a resource can compare
/// it with the token it expects, but cannot tell whether it is older or newer than another.
public struct Lock: Sendable, Hashable, CustomStringConvertible {
    /// The locked resource, as given to `acquire` (it is the Redis key).
    public let resource: String
    /// The random value stored in the key: 128 bits from the system CSPRNG, as 32 hex digits.
    public let token: String
    /// The TTL the key was set (or last extended) with.
    public let ttl: Duration
    /// When the acquisition round started (before its first write): the TTL counts from about here.
    public let acquiredAt: ContinuousClock.Instant
    /// When the lock stops being safe to rely on: round start + TTL − drift allowance.
    public let validUntil: ContinuousClock.Instant
    /// The servers of the majority that decided the acquisition (or the last extension): the round
    /// stops listening at the first majority, so a server that granted later is not listed,
    /// though it holds the key too (release and extend still reach it).
    public let grantedBy: [RedisServerAddress]
    /// What the key holds: the token, then `|` and the client's `holderIdentity` when it has one.
    let storedValue: String
    /// The acquisition round's outcomes per server, completed as late answers arrive.
    let acquisition: RoundReports
    /// Per server, the connection the key's last command went out on, so that a release queues
    /// behind it.
    let pins: [ConnectionID?]

    init(resource: String, token: String, storedValue: String, ttl: Duration, acquiredAt: ContinuousClock.Instant,
         validUntil: ContinuousClock.Instant, grantedBy: [RedisServerAddress], pins: [ConnectionID?], acquisition: RoundReports? = nil) {
        self.resource = resource
        self.token = token
        self.storedValue = storedValue
        self.acquisition = acquisition ?? RoundReports(servers: grantedBy, final: grantedBy.map { _ in ServerOutcome(.granted) })
        self.ttl = ttl
        self.acquiredAt = acquiredAt
        self.validUntil = validUntil
        self.grantedBy = grantedBy
        self.pins = pins
    }

    /// What each server answered to the round that acquired the lock, in configuration order:
    /// the servers of `grantedBy` and those that did not grant, with why (`ServerOutcome.isFailure`
    /// tells a failing server from one that held another token). The round is decided at the first
    /// majority, so a server not heard from by then shows as `.notAwaited` until its answer or its
    /// timeout (`RedLockConfiguration.serverTimeout` after the round started) comes in: read it
    /// again later for the full picture. A lock acquired without every server is still safe, but
    /// one more failing server stops every acquisition.
    public var acquisitionReports: [ServerReport] { acquisition.reports }

    /// `acquisitionReports` once every server has answered or timed out (at most the per-server
    /// timeout after the round started; at once when it is over).
    package func finalAcquisitionReports() async -> [ServerReport] { await acquisition.final() }

    /// The validity left now; zero or negative once the lock may be held by someone else.
    public var remainingValidity: Duration { validUntil - .now }

    /// The token stays out of the description, which may end up in logs.
    public var description: String {
        "Lock(\"\(resource)\", valid for \(remainingValidity), granted by \(grantedBy.count) servers)"
    }
}

/// How long `acquire` may wait for a lock that is held elsewhere.
public struct LockWait: Sendable, Hashable {
    let limit: Duration?
    let waits: Bool

    /// Do not wait: fail with `.heldElsewhere` when another holder has a majority. Split votes and
    /// unreachable servers are still retried (`RedLockConfiguration.retryAttempts`).
    public static let noWait = LockWait(limit: nil, waits: false)
    /// Keep trying until the lock is acquired or the task is cancelled.
    public static let forever = LockWait(limit: nil, waits: true)
    /// Keep trying for up to `duration`, then fail with the last round's reason.
    public static func upTo(_ duration: Duration) -> LockWait { LockWait(limit: duration, waits: true) }
}
