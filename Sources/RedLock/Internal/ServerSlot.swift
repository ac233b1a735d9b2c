import CoreMetrics
import Logging
import RedisIO

/// Everything the event loop keeps for one configured server: the current connection, connections
/// retired after a timeout (kept open until they drain so that queued releases still reach the
/// server in order), the reconnect back-off, and the subscriber connection that hears of releases
/// while callers wait. Confined to the event-loop thread (asserted on entry).
///
/// Reply handlers capture the slot and their connection `unowned`, never `weak`: a connection
/// calls its handlers only while it lives, and the slot outlives its connections. A weak
/// reference would give the object a side table for good, and every later retain and release of
/// it would take the Swift runtime's slow path; the loop retains slots and connections on every
/// turn (issue 13: acquire+release got slower when the identity read captured them weakly).
final class ServerSlot {
    let index: Int
    let address: RedisServerAddress
    /// For a `rediss://` server: its TLS context and the name its certificate must carry.
    private let tls: TLSPeer?
    private let handshake: [HandshakeCommand]
    private let subscriberHandshake: [HandshakeCommand]
    private let backoff: ReconnectBackoff
    private let logger: Logger
    private let metrics: ServerMetrics
    private let loopThread = LoopThread()

    private(set) var current: RedisConnection?
    private var retired: [RetiredConnection] = []
    /// Connections closed here while they still owed replies: the server may yet run what they
    /// carried (a SET), so a command pinned to one is never sent on another connection, where it
    /// could overtake it. Oldest first, at most `maximumAbandoned`.
    private var abandoned: [ConnectionID] = []
    /// What the latest handshake said about the server (nil until one answered, or when the
    /// server would not say: an ACL without `INFO`).
    private(set) var identity: ServerIdentity?
    /// `identity?.appendOnly`, kept as a plain value: every answer's vote check reads it, and a
    /// `ServerIdentity` (it holds a `ContinuousClock.Instant`, whose layout is resilient) is copied
    /// through the runtime's value witnesses.
    private var appendOnly: Bool?
    /// Some handshake has answered `INFO` (with an identity or without one).
    private var identityAnswered = false
    private var retryNotBefore: ContinuousClock.Instant?
    private var failureStreak = 0
    private var lastFailure: ServerOutcome?

    /// The pub/sub connection for release notices, opened when a caller first waits.
    private var subscriber: RedisConnection?
    /// Channels subscribed (or being subscribed) on `subscriber`.
    private var subscribedChannels: Set<String> = []
    /// After the subscriber failed (server gone, or an ACL user without channel rights), waiters
    /// poll only until then.
    private var subscriberRetryNotBefore: ContinuousClock.Instant?

    /// At most this many timed-out connections are kept draining per server; the oldest is closed
    /// beyond it (bounds file descriptors while a server stays stopped).
    static let maximumRetired = 8
    /// How many abandoned connections are remembered per server (8 bytes each).
    static let maximumAbandoned = 4096

    private struct RetiredConnection {
        let connection: RedisConnection
        var closeAt: ContinuousClock.Instant
    }

    init(index: Int, address: RedisServerAddress, tls: TLSPeer?, fallbackPassword: String?, backoff: ReconnectBackoff,
         logger: Logger, metrics: ServerMetrics, fencing: Fencing = .off) {
        self.index = index
        self.address = address
        self.tls = tls
        self.handshake = Self.handshakeCommands(for: address, fallbackPassword: fallbackPassword, fencing: fencing)
        self.subscriberHandshake = Self.authentication(for: address, fallbackPassword: fallbackPassword)
        self.backoff = backoff
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "redlock.server"] = "\(address)"
        self.logger = logger
    }

    /// From a failure until the server answers again: that failure.
    var recentFailure: ServerOutcome? { failureStreak > 0 ? lastFailure : nil }

    /// For a `rediss://` server, its certificates' dates (the server's from the current
    /// connection's handshake); nil for a plain server.
    var tlsCertificates: ServerTLSCertificates? {
        loopThread.preconditionOnLoopThread()
        guard let tls else { return nil }
        return ServerTLSCertificates(server: current?.peerCertificate, client: tls.context.clientCertificate)
    }

    /// Calls `body` with every connection (for `poll`), without building an array on every turn
    /// of the loop.
    func forEachConnection(_ body: (RedisConnection) -> Void) {
        loopThread.preconditionOnLoopThread()
        if let current { body(current) }
        if let subscriber { body(subscriber) }
        for entry in retired { body(entry.connection) }
    }

    /// The earliest time a retired connection must be closed, for the poll timeout.
    var nextRetiredDeadline: ContinuousClock.Instant? {
        retired.lazy.map(\.closeAt).min()
    }

    /// The connection to send on: the one with `pinned` id when it is still open (so a release queues
    /// behind its own SET), otherwise the current one, opened on demand. A failure with the reason
    /// while the server is in reconnect back-off, or when the pinned connection was closed here with
    /// replies still owed (its SET may still run; another connection could overtake it).
    func connection(pinned: ConnectionID?, reactor: Reactor) -> ServerResult<RedisConnection> {
        loopThread.preconditionOnLoopThread()
        if let pinned, let retiredConnection = retired.first(where: { $0.connection.id == pinned })?.connection {
            return .success(retiredConnection)
        }
        if let current, let failure = current.failure {
            connectionFailed(current, failure)  // failed outside `handle` (an append that failed)
        }
        if let pinned, abandoned.contains(pinned) {
            return .failure(ServerOutcome(.connectionClosed, detail: "the connection the lock's command went out on was closed before it answered; "
                + "not sent on another, where it could overtake that command; the key expires after its TTL"))
        }
        if let current { return .success(current) }
        if let retryNotBefore, ContinuousClock.now < retryNotBefore {
            return .failure(ServerOutcome(.backingOff, detail: lastFailure?.description))
        }
        let opened = open(reactor: reactor, handshake: handshake)
        readIdentity(on: opened, reactor: reactor)
        current = opened
        startConnect(opened, reactor: reactor)
        // A connect that failed at once (refused, no such socket) is reported as such.
        if opened.state == .closed, let lastFailure { return .failure(lastFailure) }
        return .success(opened)
    }

    // MARK: Opening

    /// A new connection with `handshake` queued; the caller records it, then calls `startConnect`.
    private func open(reactor: Reactor, handshake: [HandshakeCommand]) -> RedisConnection {
        let connection = RedisConnection(id: reactor.makeConnectionID(), tls: tls)
        for command in handshake {
            guard command.mustSucceed else {
                connection.append(command.bytes) { _ in }
                continue
            }
            connection.appendGate(command.bytes) { [unowned self, unowned connection] result in
                guard case .success(.error(let line)) = result else { return }
                self.connectionFailed(connection, connection.fail(ServerOutcome(.authFailed, detail: line)))
            }
        }
        return connection
    }

    /// Queues `INFO server` and `INFO persistence` behind the handshake (no extra round trip:
    /// they go out with it, and their replies come before any command's).
    /// A new identity is reported to `reactor` (see `Reactor.identityRead()`).
    private func readIdentity(on connection: RedisConnection, reactor: Reactor) {
        var serverInfo: String?
        connection.append(Self.infoServer) { result in
            if case .success(.bulk(let text)) = result { serverInfo = text }
        }
        connection.append(Self.infoPersistence) { [unowned self, unowned connection, unowned reactor] result in
            guard connection === current, case .success(let reply) = result else { return }
            if let serverInfo, case .bulk(let persistence) = reply {
                identity = ServerIdentity(server: serverInfo, persistence: persistence, database: address.database, receivedAt: .now)
            } else {
                identity = nil
            }
            appendOnly = identity?.appendOnly
            identityAnswered = true
            if identity == nil {
                logger.debug("redlock cannot read the server's identity (INFO); duplicates and restarts of it go unnoticed")
            }
            reactor.identityRead()
        }
    }

    /// False while the server has never said who it is but may still say so (its first
    /// connection is still in its handshake): a grant counted before then might count one server
    /// under two addresses. A server that once answered (its identity is re-read on every
    /// reconnect, before any reply on that connection), failed or has no connection is settled,
    /// so a frozen server delays at most the rounds until its first timeout.
    var identityIsSettled: Bool {
        identityAnswered || lastFailure != nil || current.map { $0.state == .closed } ?? true
    }

    /// Why a grant from this server must not count now (see `RestartGuard` and `Fencing`), or nil.
    func withheldVote(at now: ContinuousClock.Instant, window: Duration?, fencing: Fencing) -> String? {
        if let reason = fencing.withheldVote(appendOnly: appendOnly) { return reason }
        // Only a server without AOF can have its vote withheld by the restart guard.
        guard window != nil, appendOnly == false else { return nil }
        return identity?.withheldVote(at: now, window: window)
    }

    private static let infoServer = RedisCommand.encode(["INFO", "server"])
    private static let infoPersistence = RedisCommand.encode(["INFO", "persistence"])

    /// Connects `connection` (already recorded as `current` or `subscriber`), resolving the host
    /// name first when it is not numeric.
    private func startConnect(_ connection: RedisConnection, reactor: Reactor) {
        switch address.endpoint {
        case .unix(let path):
            startConnect(connection, to: .unix(path: path))
        case .tcp(let host, let port) where HostResolver.isNumeric(host):
            startConnect(connection, to: .tcp(ip: host, port: port))
        case .tcp(let host, let port):
            let id = connection.id, index = self.index
            HostResolver.resolve(host, port: port, on: reactor.loop) { reactor, result in
                reactor.slots[index].resolved(id, result)
            }
        }
        logger.trace("redlock connecting", metadata: ["redlock.connection": "\(connection.id)"])
    }

    private func resolved(_ id: ConnectionID, _ result: ServerResult<ConnectTarget>) {
        guard let connection = [current, subscriber].first(where: { $0?.id == id }) ?? nil,
              connection.state == .resolving else { return }
        switch result {
        case .success(let target): startConnect(connection, to: target)
        case .failure(let failure): connectionFailed(connection, connection.fail(failure))
        }
    }

    private func startConnect(_ connection: RedisConnection, to target: ConnectTarget) {
        if let failure = connection.connect(to: target) {
            connectionFailed(connection, failure)
        }
    }

    // MARK: Events

    /// Handles what `poll` reported for one of this server's connections.
    func handle(_ connection: RedisConnection, readable: Bool, writable: Bool) {
        loopThread.preconditionOnLoopThread()
        let owedBefore = connection.pendingReplies
        if let failure = connection.handleEvents(readable: readable, writable: writable) { return connectionFailed(connection, failure) }
        if connection === current, connection.state == .open, connection.pendingReplies < owedBefore { noteHealthy() }
    }

    /// Writes what the socket takes now; a failed write fails the connection.
    func flush(_ connection: RedisConnection) {
        loopThread.preconditionOnLoopThread()
        if let failure = connection.flush() { connectionFailed(connection, failure) }
    }

    /// Records one reply's round-trip time in the per-server latency metric.
    func recordLatency(since start: ContinuousClock.Instant) {
        metrics.latency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
    }

    /// Drops a connection whose command timed out: it is never used for new commands (a late reply
    /// would be taken for the next command's), but kept open so commands already queued on it
    /// (a SET and the release behind it) still reach the server in order, until it drains.
    /// A connection retired already stays open until the latest `lingerUntil` asked of it.
    func retire(_ connection: RedisConnection, lingerUntil: ContinuousClock.Instant) {
        loopThread.preconditionOnLoopThread()
        if let position = retired.firstIndex(where: { $0.connection === connection }) {
            retired[position].closeAt = max(retired[position].closeAt, lingerUntil)
            return
        }
        guard connection === current else { return }
        current = nil
        noteFailure(ServerOutcome(.timedOut, detail: connection.stallDescription))
        retired.append(RetiredConnection(connection: connection, closeAt: lingerUntil))
        if retired.count > Self.maximumRetired {
            abandon(retired.removeFirst().connection, ServerOutcome(.timedOut, detail: "too many stalled connections"))
        }
        logger.debug("redlock server timed out; connection retired", metadata: ["redlock.connection": "\(connection.id)"])
    }

    /// Closes retired connections that have drained, failed, or outlived what they carry.
    func sweepRetired(now: ContinuousClock.Instant) {
        loopThread.preconditionOnLoopThread()
        let swept = retired.filter { $0.connection.state == .closed || $0.connection.pendingReplies == 0 || now >= $0.closeAt }
        guard !swept.isEmpty else { return }
        retired.removeAll { entry in swept.contains { $0.connection === entry.connection } }
        // Only once `retired` is settled: closing a connection runs its waiting commands' handlers,
        // which may start a round on this slot (a failed acquisition's clean-up) that reads it.
        for entry in swept { abandon(entry.connection, ServerOutcome(.timedOut, detail: "connection retired")) }
    }

    /// Closes a retired connection; one that still owes replies is remembered as abandoned.
    private func abandon(_ connection: RedisConnection, _ failure: ServerOutcome) {
        if connection.state != .closed, connection.pendingReplies > 0 {
            abandoned.append(connection.id)
            if abandoned.count > Self.maximumAbandoned { abandoned.removeFirst() }
        }
        connection.fail(failure)
    }

    /// Closes everything, failing waiting commands with `failure`.
    func closeAll(_ failure: ServerOutcome) {
        loopThread.preconditionOnLoopThread()
        forEachConnection { $0.fail(failure) }
        current = nil
        retired = []
        subscriber = nil
        subscribedChannels = []
    }

    // MARK: Release notices

    /// Subscribes to `channel` on this server, opening the subscriber connection first if needed.
    /// The server's confirmation goes to `reactor.releaseWatches.subscribed(to:)` and each message
    /// to `announced(on:payload:)`. Does nothing while the subscriber is in back-off.
    func subscribe(_ channel: String, reactor: Reactor) {
        loopThread.preconditionOnLoopThread()
        guard !reactor.isShutDown, !subscribedChannels.contains(channel) else { return }
        if let subscriber, let failure = subscriber.failure { subscriberFailed(failure) }
        if let subscriberRetryNotBefore, ContinuousClock.now < subscriberRetryNotBefore { return }
        let connection = subscriber ?? openSubscriber(reactor: reactor)
        guard connection.state != .closed else { return }
        subscribedChannels.insert(channel)
        connection.append(RedisCommand.encode(["SUBSCRIBE", channel])) { [unowned self, unowned connection, unowned reactor] result in
            guard case .success(let reply) = result else { return }
            if case .error(let line) = reply {
                self.connectionFailed(connection, connection.fail(ServerOutcome(.serverError, detail: line)))
            } else {
                reactor.releaseWatches.subscribed(to: channel)
            }
        }
        flush(connection)
    }

    /// Stops hearing of `channel` on this server (the subscriber connection stays open).
    func unsubscribe(_ channel: String) {
        loopThread.preconditionOnLoopThread()
        guard subscribedChannels.remove(channel) != nil, let subscriber, subscriber.state != .closed else { return }
        subscriber.append(RedisCommand.encode(["UNSUBSCRIBE", channel])) { _ in }
        flush(subscriber)
    }

    /// Whether `connection` is this server's subscriber (release notices) connection.
    func isSubscriber(_ connection: RedisConnection) -> Bool {
        connection === subscriber
    }

    private func openSubscriber(reactor: Reactor) -> RedisConnection {
        let connection = open(reactor: reactor, handshake: subscriberHandshake)
        connection.onMessage = { [unowned reactor] channel, payload in
            reactor.releaseWatches.announced(on: channel, payload: payload)
        }
        subscriber = connection
        startConnect(connection, reactor: reactor)
        return connection
    }

    /// Waiters fall back to polling alone for a while: the server is gone, or refuses to let this
    /// user subscribe (an ACL without channel rights), and retrying on every wait would only add load.
    private func subscriberFailed(_ failure: ConnectionFailure) {
        subscriber = nil
        subscribedChannels = []
        subscriberRetryNotBefore = .now + backoff.maximum
        logger.debug("redlock release notices unavailable; waiters poll", metadata: ["redlock.error": "\(failure)"])
    }

    private func connectionFailed(_ connection: RedisConnection, _ failure: ConnectionFailure) {
        if connection === subscriber { return subscriberFailed(failure) }
        guard connection === current else { return }
        current = nil
        noteFailure(failure)
        logger.debug("redlock connection failed", metadata: ["redlock.error": "\(failure)"])
    }

    /// A first failure may be a hiccup: the next round reconnects at once. From the second failure
    /// in a row the server is skipped for a back-off that doubles each time.
    private func noteFailure(_ failure: ServerOutcome) {
        metrics.errors.increment()
        lastFailure = failure
        retryNotBefore = failureStreak == 0 ? nil : .now + backoff.delay(afterFailures: failureStreak - 1)
        failureStreak += 1
    }

    private func noteHealthy() {
        failureStreak = 0
        retryNotBefore = nil
    }

    /// A command sent ahead of everything else on a new connection.
    private struct HandshakeCommand {
        let bytes: [UInt8]
        /// An error reply fails the connection (`AUTH`, `SELECT`); otherwise it is ignored.
        let mustSucceed: Bool
    }

    /// `AUTH` and `SELECT` when needed, then `SCRIPT LOAD` of the scripts, so that `EVALSHA`
    /// finds them, all ahead of the first command. Without `AUTH` or `SELECT` they cost no extra
    /// round trip; with them, commands wait for their success (see `RedisConnection.appendGate`).
    /// With fencing on, the fenced acquire is loaded too (a `NOSCRIPT` that comes after its round
    /// was decided could not be retried).
    private static func handshakeCommands(for address: RedisServerAddress, fallbackPassword: String?, fencing: Fencing) -> [HandshakeCommand] {
        var commands = authentication(for: address, fallbackPassword: fallbackPassword)
        if address.database != 0 {
            commands.append(HandshakeCommand(bytes: RedisCommand.encode(["SELECT", String(address.database)]), mustSucceed: true))
        }
        for script in [LockScripts.release, LockScripts.extend] + (fencing.isOn ? [LockScripts.fencedAcquire] : []) {
            commands.append(HandshakeCommand(bytes: RedisCommand.encode(["SCRIPT", "LOAD", script.source]), mustSucceed: false))
        }
        return commands
    }

    /// `AUTH` when the server needs a password: the whole handshake of a subscriber connection
    /// (pub/sub channels belong to no database, and it runs no scripts).
    private static func authentication(for address: RedisServerAddress, fallbackPassword: String?) -> [HandshakeCommand] {
        guard let arguments = address.authArguments(fallbackPassword: fallbackPassword) else { return [] }
        return [HandshakeCommand(bytes: RedisCommand.encode(arguments), mustSucceed: true)]
    }
}

/// Reconnect delays: doubling from `minimum` to `maximum` after consecutive failures.
struct ReconnectBackoff: Sendable {
    var minimum: Duration
    var maximum: Duration

    func delay(afterFailures streak: Int) -> Duration {
        min(maximum, minimum * (1 << min(streak, 20)))
    }
}

/// The per-server metrics, created once per client.
struct ServerMetrics {
    let latency: CoreMetrics.Timer
    let errors: Counter
}
