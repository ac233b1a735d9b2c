import CoreMetrics
import Logging
import Synchronization
import RedisIO

/// Acquires, extends and releases locks on a majority of independent Redis masters (Redlock).
///
/// One client keeps one connection per server, driven by a dedicated I/O thread, so every round
/// reaches all servers in parallel. Create one client per process and share it; it is `Sendable`.
/// Call `shutdown()` when done (dropping the last reference also stops it, without waiting).
///
/// ```swift
/// let client = try RedLockClient(configuration: .init(serverAddresses: ["redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3"]))
/// try await client.withLock("reports:nightly", ttl: .seconds(30)) { lock in
///     try await buildReport()
/// }
/// ```
public final class RedLockClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: RedLockConfiguration
    let loop: EventLoop
    let metrics: ClientMetrics
    /// Server-side work that rides with acquire and release (cronlock's job control), if any.
    let commandExtension: (any LockCommandExtension)?
    /// Numbers the waits for release notices (see `ReleaseWatches`).
    let lastWatchID = Atomic<UInt64>(0)
    /// The highest fence seen per resource, where the next proposal starts.
    let fences = FenceMemory()

    /// Validates `configuration`, starts the I/O thread and begins connecting to every server.
    ///
    /// - Throws: `RedLockError` `.invalidConfiguration`: no servers, a server listed twice, a
    ///   setting out of range, or a TLS file that is missing or unusable (the message names it).
    public convenience init(configuration: RedLockConfiguration) throws(RedLockError) {
        try self.init(configuration: configuration, commandExtension: nil)
    }

    /// A client whose acquire and release run `commandExtension`'s scripts instead of the plain
    /// commands (see `LockCommandExtension`).
    package init(configuration: RedLockConfiguration, commandExtension: (any LockCommandExtension)?) throws(RedLockError) {
        try configuration.validate()
        self.configuration = configuration
        self.commandExtension = commandExtension
        let factory = configuration.metricsFactory ?? MetricsSystem.factory
        let metrics = ClientMetrics(factory: factory)
        self.metrics = metrics
        let backoff = ReconnectBackoff(minimum: configuration.minimumReconnectDelay, maximum: configuration.maximumReconnectDelay)
        let tlsPeers = try TLSContext.contexts(for: configuration.servers, common: configuration.tls)
        loop = try EventLoop { loop in
            let slots = configuration.servers.enumerated().map { index, address in
                ServerSlot(index: index, address: address, tls: tlsPeers[index], fallbackPassword: configuration.password, backoff: backoff,
                           logger: configuration.logger, metrics: ServerMetrics(server: address, factory: factory), fencing: configuration.fencing)
            }
            return Reactor(loop: loop, slots: slots)
        }
        if configuration.servers.count % 2 == 0 {
            configuration.logger.warning(
                "redlock has an even number of servers; it tolerates no more failures than one server fewer",
                metadata: ["redlock.servers": "\(configuration.servers.count)"])
        }
        loop.execute { reactor in
            for slot in reactor.slots { _ = slot.connection(pinned: nil, reactor: reactor) }
        }
    }

    deinit {
        loop.shutdown()
    }

    /// Closes every connection and stops the I/O thread. Calls in flight fail with
    /// `.clientShutDown`, as do later calls. Safe to call more than once.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.shutdown { continuation.resume() }
        }
    }

    /// The client's I/O thread, as an executor for tasks that do little but take and release
    /// locks (`withTaskExecutorPreference(client.ioExecutor) { … }`): fewer thread hand-offs per
    /// round. Code there must not block or compute for long, or every caller of the client waits.
    /// After `shutdown()`, such tasks run on the global executor. See the SafetyModel article.
    public var ioExecutor: any TaskExecutor { loop }

    /// The number of servers that must agree: ⌊N/2⌋ + 1.
    public var quorum: Int { QuorumTally.majority(of: configuration.servers.count) }

    /// The majority of `count` servers (`QuorumTally.majority(of:)`), for code outside the library.
    package static func quorum(of count: Int) -> Int { QuorumTally.majority(of: count) }

    // MARK: Release and extend

    /// Deletes the lock's key on every server where it still holds the lock's token.
    ///
    /// Waits for every responsive server (each bounded by the per-server timeout). A server that
    /// failed recently is sent the release but not waited for, unless the others alone are not a
    /// majority: its key is released as soon as it catches up, behind the lock's own SET.
    ///
    /// - Throws: `RedLockError` `.notHeld` when a majority answered but fewer than a majority still
    ///   held the token (the lock had expired or was taken over); `.noQuorum` when a majority could
    ///   not be reached; `.clientShutDown`.
    public func release(_ lock: Lock, logger: Logger? = nil) async throws(RedLockError) {
        let plan = try RoundPlan(resource: lock.resource, ttl: lock.ttl, configuration: configuration)
        let command = endCommand(resource: lock.resource, value: lock.storedValue, keepMilliseconds: 0, acquired: true)
        try await finish(lock, with: command, plan: plan, event: "redlock released", logger: logger)
    }

    /// Ends the lock but keeps its key for `remaining` more (on each server, counted by that
    /// server's clock), with a token-checked `PEXPIRE`; deletes it as `release` does when
    /// `remaining` is zero or less. For "run at most once per window" jobs: hosts whose clocks
    /// lag still find the key held.
    ///
    /// - Throws: as `release`.
    public func release(_ lock: Lock, keepingKeyFor remaining: Duration, logger: Logger? = nil) async throws(RedLockError) {
        guard remaining >= .milliseconds(1) else { return try await release(lock, logger: logger) }
        let plan = try RoundPlan(resource: lock.resource, ttl: lock.ttl, configuration: configuration)
        let command = endCommand(resource: lock.resource, value: lock.storedValue,
                                 keepMilliseconds: remaining.millisecondsRoundedUp, acquired: true)
        try await finish(lock, with: command, plan: plan, event: "redlock released with the key kept", logger: logger)
    }

    /// Runs a token-checked end-of-lock script on every server and judges the answers.
    private func finish(_ lock: Lock, with command: RedisCommand, plan: RoundPlan, event: Logger.Message, logger: Logger?) async throws(RedLockError) {
        let round = try await onLoop { reactor, done in
            reactor.runScript(command, plan: plan, pins: lock.pins, wait: .allResponsive, completion: done)
        }
        let log = logger ?? configuration.logger
        let verdict = ScriptRoundVerdict.release(round.outcomes, quorum: plan.quorum)
        if verdict == .confirmed {
            log.debug(event, metadata: ["redlock.resource": "\(lock.resource)"])
            return
        }
        try throwIfShutDown(round.shutDown)
        if verdict == .notHeld {
            throw RedLockError(.notHeld, "the lock had already expired or been taken over; nothing of another holder was touched",
                               resource: lock.resource, servers: reports(round.outcomes))
        }
        throw RedLockError(.noQuorum, "a majority of servers could not be reached to release the lock; it expires by itself after its TTL",
                           resource: lock.resource, servers: reports(round.outcomes))
    }

    /// Resets the lock's TTL on every server that still holds its token, and returns the lock with
    /// its new validity. Never re-creates a key that has expired.
    ///
    /// - Parameters:
    ///   - lock: a lock from `acquire` or an earlier `extend`.
    ///   - ttl: the new TTL; default: the lock's own.
    ///   - logger: this call's logger; default the configuration's.
    /// - Throws: `RedLockError` `.notHeld` when the lock's validity had already passed or a majority
    ///   no longer holds its token; `.noQuorum` when too few servers answered in time (the lock may
    ///   still be valid until `lock.validUntil`); `.invalidArgument` for a bad TTL;
    ///   `.invalidConfiguration` when two addresses turned out to reach one server (their two
    ///   confirmations would be one vote).
    public func extend(_ lock: Lock, ttl: Duration? = nil, logger: Logger? = nil) async throws(RedLockError) -> Lock {
        let start = ContinuousClock.now
        let plan = try RoundPlan.extending(lock.resource, ttl: ttl ?? lock.ttl, remaining: lock.validUntil - start, configuration: configuration)
        guard start < lock.validUntil else {
            throw RedLockError(.notHeld, "the lock's validity had passed before the extension started", resource: lock.resource)
        }
        let command = LockScripts.extend.command(keys: [lock.resource], arguments: [lock.storedValue, String(plan.ttlMilliseconds)])
        let round = try await onLoop { reactor, done in
            reactor.runScript(command, plan: plan, pins: lock.pins, wait: .majority, completion: done)
        }
        let validUntil = start + plan.ttl - plan.drift
        let reports = self.reports(round.outcomes)
        switch ScriptRoundVerdict.extending(round.outcomes, quorum: plan.quorum, duplicateServers: round.duplicateServers,
                                            now: .now, validUntil: validUntil) {
        case .duplicateServers(let duplicate):
            throw RedLockError(.invalidConfiguration, duplicate, resource: lock.resource, servers: reports)
        case .confirmed:
            (logger ?? configuration.logger).debug("redlock extended", metadata: ["redlock.resource": "\(lock.resource)"])
            return Lock(resource: lock.resource, token: lock.token, storedValue: lock.storedValue, ttl: plan.ttl,
                        acquiredAt: lock.acquiredAt, validUntil: validUntil,
                        grantedBy: reports.filter { $0.outcome.kind == .granted }.map(\.server),
                        pins: zip(round.pins, lock.pins).map { $0 ?? $1 }, acquisition: lock.acquisition, fencingToken: lock.fencingToken)
        case .notHeld:
            try throwIfShutDown(round.shutDown)
            throw RedLockError(.notHeld, "a majority of servers no longer hold the lock; it expired or was taken over",
                               resource: lock.resource, servers: reports)
        case .noQuorum:
            try throwIfShutDown(round.shutDown)
            throw RedLockError(.noQuorum, "too few servers confirmed the extension in time", resource: lock.resource, servers: reports)
        }
    }

    // MARK: Plumbing

    /// Runs `body` on the I/O thread and suspends until it calls back.
    func onLoop<Result: Sendable>(
        _ body: @escaping @Sendable (Reactor, @escaping (Result) -> Void) -> Void
    ) async throws(RedLockError) -> Result {
        let result: Result? = await withCheckedContinuation { continuation in
            let accepted = loop.execute { reactor in
                body(reactor) { continuation.resume(returning: $0) }
            }
            if !accepted { continuation.resume(returning: nil) }
        }
        guard let result else { throw Self.shutDownError }
        return result
    }

    /// The acquire command for a fresh `value`: `SET … NX PX … GET`, or the extension's script;
    /// with a fencing `proposal`, the fenced script (see `LockScripts.fenced(_:)`).
    func acquireCommand(_ plan: RoundPlan, value: String, proposal: UInt64?) -> RedisCommand {
        guard let commandExtension else {
            guard let proposal else { return LockScripts.acquire(key: plan.key, value: value, ttlMilliseconds: plan.ttlMilliseconds) }
            return LockScripts.fencedAcquire(key: plan.key, value: value, ttlMilliseconds: plan.ttlMilliseconds, proposal: proposal)
        }
        return commandExtension.acquireScript(fencingToken: proposal)
            .command(lockKey: plan.key, stepArguments: [value, String(plan.ttlMilliseconds)], fencingProposal: proposal)
    }

    /// The token-checked end of a lock: delete the key, or (`keepMilliseconds` > 0) keep it that
    /// much longer. `acquired` is false for the clean-up after a failed acquisition round.
    func endCommand(resource: String, value: String, keepMilliseconds: Int64, acquired: Bool) -> RedisCommand {
        if let commandExtension {
            return commandExtension.releaseScript(acquired: acquired)
                .command(lockKey: resource, stepArguments: [value, String(keepMilliseconds), acquired ? "1" : "0"])
        }
        guard keepMilliseconds > 0 else {
            let announce = acquired && configuration.notifiesWaitersOnRelease
            return LockScripts.release.command(keys: [resource], arguments: [value] + (announce ? [LockScripts.releaseChannel(for: resource)] : []))
        }
        return LockScripts.extend.command(keys: [resource], arguments: [value, String(keepMilliseconds)])
    }

    /// What the key holds for a fresh `token`: the token, then `|` and the holder identity if any.
    func storedValue(for token: String) -> String {
        configuration.holderIdentity.map { token + "|" + $0 } ?? token
    }

    func reports(_ outcomes: [ServerOutcome]) -> [ServerReport] {
        zip(configuration.servers, outcomes).map { ServerReport(server: $0, outcome: $1) }
    }

    func throwIfShutDown(_ shutDown: Bool) throws(RedLockError) {
        if shutDown { throw Self.shutDownError }
    }

    static let shutDownError = RedLockError(.clientShutDown, "the client was shut down")
}

/// The client's metrics, created once.
struct ClientMetrics: Sendable {
    let acquired: CoreMetrics.Timer
    let heldElsewhere: CoreMetrics.Timer
    let failed: CoreMetrics.Timer
    let locksLost: Counter

    init(factory: any MetricsFactory) {
        func timer(_ result: String) -> CoreMetrics.Timer {
            CoreMetrics.Timer(label: "redlock.acquire.duration", dimensions: [("result", result)], factory: factory)
        }
        acquired = timer("acquired")
        heldElsewhere = timer("held_elsewhere")
        failed = timer("failed")
        locksLost = Counter(label: "redlock.locks.lost", factory: factory)
    }
}

extension ServerMetrics {
    init(server: RedisServerAddress, factory: any MetricsFactory) {
        latency = CoreMetrics.Timer(label: "redlock.server.latency", dimensions: [("server", "\(server)")], factory: factory)
        errors = Counter(label: "redlock.server.errors", dimensions: [("server", "\(server)")], factory: factory)
    }
}
