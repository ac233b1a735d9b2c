import CoreMetrics
import Logging

/// Everything the event loop keeps for one configured server: the current connection, connections
/// retired after a timeout (kept open until they drain so that queued releases still reach the
/// server in order), and the reconnect back-off. Confined to the event-loop thread.
final class ServerSlot {
    let index: Int
    let address: RedisServerAddress
    private let handshake: [HandshakeCommand]
    private let backoff: ReconnectBackoff
    private let logger: Logger
    private let metrics: ServerMetrics

    private(set) var current: RedisConnection?
    private var retired: [RetiredConnection] = []
    private var retryNotBefore: ContinuousClock.Instant?
    private var failureStreak = 0
    private var lastFailure: ServerOutcome?

    /// At most this many timed-out connections are kept draining per server; the oldest is closed
    /// beyond it (bounds file descriptors while a server stays stopped).
    static let maximumRetired = 8

    private struct RetiredConnection {
        let connection: RedisConnection
        var closeAt: ContinuousClock.Instant
    }

    init(index: Int, address: RedisServerAddress, fallbackPassword: String?, backoff: ReconnectBackoff,
         logger: Logger, metrics: ServerMetrics) {
        self.index = index
        self.address = address
        self.handshake = Self.handshakeCommands(for: address, fallbackPassword: fallbackPassword)
        self.backoff = backoff
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "redlock.server"] = "\(address)"
        self.logger = logger
    }

    /// True from a failure until the server answers again.
    var isFailing: Bool { failureStreak > 0 }

    /// Every open connection, for `poll`.
    var connections: [RedisConnection] {
        (current.map { [$0] } ?? []) + retired.map(\.connection)
    }

    /// The earliest time a retired connection must be closed, for the poll timeout.
    var nextRetiredDeadline: ContinuousClock.Instant? {
        retired.map(\.closeAt).min()
    }

    /// The connection to send on: the one with `pinned` id when it is still open (so a release queues
    /// behind its own SET), otherwise the current one, opened on demand. `nil` with the reason while
    /// the server is in reconnect back-off.
    func connection(pinned: ConnectionID?, reactor: Reactor) -> Result<RedisConnection, ServerOutcome> {
        if let pinned, let retiredConnection = retired.first(where: { $0.connection.id == pinned })?.connection {
            return .success(retiredConnection)
        }
        if let current { return .success(current) }
        if let retryNotBefore, ContinuousClock.now < retryNotBefore {
            return .failure(ServerOutcome(.backingOff, detail: lastFailure?.description))
        }
        let opened = open(reactor: reactor)
        // A connect that failed at once (refused, no such socket) is reported as such.
        if opened.state == .closed, let lastFailure { return .failure(lastFailure) }
        return .success(opened)
    }

    // MARK: Opening

    private func open(reactor: Reactor) -> RedisConnection {
        let connection = RedisConnection(id: reactor.makeConnectionID())
        current = connection
        for command in handshake {
            guard command.mustSucceed else {
                connection.append(command.bytes) { _ in }
                continue
            }
            connection.appendGate(command.bytes) { [weak self, weak connection] result in
                guard let self, let connection, case .success(.error(let line)) = result else { return }
                self.connectionFailed(connection, connection.fail(ServerOutcome(.authFailed, detail: line)))
            }
        }
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
        return connection
    }

    private func resolved(_ id: ConnectionID, _ result: Result<ConnectTarget, ServerOutcome>) {
        guard let connection = current, connection.id == id, connection.state == .resolving else { return }
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
        if connection.state == .connecting, writable || readable {
            if let failure = connection.finishConnecting() { return connectionFailed(connection, failure) }
        }
        if writable, let failure = connection.flush() { return connectionFailed(connection, failure) }
        if readable {
            let owedBefore = connection.pendingReplies
            if let failure = connection.readReplies() { return connectionFailed(connection, failure) }
            if connection === current, connection.state == .open, connection.pendingReplies < owedBefore { noteHealthy() }
        }
    }

    /// Writes what the socket takes now; a failed write fails the connection.
    func flush(_ connection: RedisConnection) {
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
        if let position = retired.firstIndex(where: { $0.connection === connection }) {
            retired[position].closeAt = max(retired[position].closeAt, lingerUntil)
            return
        }
        guard connection === current else { return }
        current = nil
        noteFailure(ServerOutcome(.timedOut))
        retired.append(RetiredConnection(connection: connection, closeAt: lingerUntil))
        if retired.count > Self.maximumRetired {
            retired.removeFirst().connection.fail(ServerOutcome(.timedOut, detail: "too many stalled connections"))
        }
        logger.debug("redlock server timed out; connection retired", metadata: ["redlock.connection": "\(connection.id)"])
    }

    /// Closes retired connections that have drained, failed, or outlived what they carry.
    func sweepRetired(now: ContinuousClock.Instant) {
        retired.removeAll { entry in
            let done = entry.connection.state == .closed || entry.connection.pendingReplies == 0 || now >= entry.closeAt
            if done { entry.connection.fail(ServerOutcome(.timedOut, detail: "connection retired")) }
            return done
        }
    }

    /// Closes everything, failing waiting commands with `failure`.
    func closeAll(_ failure: ServerOutcome) {
        for connection in connections { connection.fail(failure) }
        current = nil
        retired = []
    }

    private func connectionFailed(_ connection: RedisConnection, _ failure: ConnectionFailure) {
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
    private static func handshakeCommands(for address: RedisServerAddress, fallbackPassword: String?) -> [HandshakeCommand] {
        var commands: [HandshakeCommand] = []
        if let password = address.password ?? fallbackPassword {
            let arguments = ["AUTH"] + (address.username.map { [$0] } ?? []) + [password]
            commands.append(HandshakeCommand(bytes: RedisCommand.encode(arguments), mustSucceed: true))
        }
        if address.database != 0 {
            commands.append(HandshakeCommand(bytes: RedisCommand.encode(["SELECT", String(address.database)]), mustSucceed: true))
        }
        for script in [LockScripts.release, LockScripts.extend] {
            commands.append(HandshakeCommand(bytes: RedisCommand.encode(["SCRIPT", "LOAD", script.source]), mustSucceed: false))
        }
        return commands
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
