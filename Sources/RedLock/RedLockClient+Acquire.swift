import Logging

/// The Redlock acquisition, start to finish.
///
/// 1. Each attempt takes a fresh token and notes the time *before* the first write.
/// 2. One round sends `SET key token NX PX ttl GET` to every server at once and is decided at the
///    first majority: granted, or no longer possible. A slow minority is never waited for.
/// 3. Granted: validity = TTL − elapsed − drift. If less than `minimumValidity` is left (or the
///    task was cancelled), the lock is released at once and the attempt counts as failed.
/// 4. Failed: the round has already released on every server it wrote to (each release queued
///    behind its own SET), so nothing of ours is left. Then:
///    - another holder on a majority → `.heldElsewhere` at once, unless the call waits;
///    - split vote or unreachable servers → retry after a jittered delay, up to `retryAttempts`
///      (or until the wait runs out).
///    A call that waits for another holder listens for its release meanwhile (when
///    `notifiesWaitersOnRelease`) and retries as soon as one is announced.
extension RedLockClient {
    /// Acquires `resource` on a majority of servers.
    ///
    /// - Parameters:
    ///   - resource: the lock's name, used as the Redis key (1 to 4096 bytes of UTF-8).
    ///   - ttl: how long the servers keep the key; the lock is valid for a little less (see
    ///     `Lock.validUntil`). Whole milliseconds; at least a few ms more than drift and timeout.
    ///   - wait: whether to wait while another holder has it. Default `.noWait`.
    ///   - logger: this call's logger; default the configuration's.
    /// - Returns: the lock, with its token and validity deadline.
    /// - Throws: `RedLockError` `.heldElsewhere` (another holder has a majority; after waiting, if
    ///   asked), `.noQuorum` (too few servers could vote; `servers` says why for each, e.g. a vote
    ///   withheld by `RedLockConfiguration.restartGuard`), `.invalidConfiguration` (two addresses
    ///   reach the same server: the message names both), `.cancelled`, `.invalidArgument`,
    ///   `.clientShutDown`. Nothing of ours is left on any server when it throws.
    public func acquire(_ resource: String, ttl: Duration, wait: LockWait = .noWait, logger: Logger? = nil) async throws(RedLockError) -> Lock {
        let plan = try RoundPlan(resource: resource, ttl: ttl, configuration: configuration)
        let log = logger ?? configuration.logger
        let started = ContinuousClock.now
        let waitDeadline = wait.limit.map { started + $0 }
        var attempt = 1
        var releaseWatch: ReleaseWatches.ID?
        defer { if let releaseWatch { stopWatching(releaseWatch) } }
        while true {
            let failure: AttemptFailure
            switch await attemptOnce(plan) {
            case .success(let lock):
                metrics.acquired.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                log.debug("redlock acquired", metadata: ["redlock.resource": "\(resource)", "redlock.attempt": "\(attempt)"])
                return lock
            case .failure(let attemptFailure):
                failure = attemptFailure
            }
            guard let delay = retryDelay(after: failure, attempt: attempt, wait: wait, waitDeadline: waitDeadline) else {
                (failure.error.code == .heldElsewhere ? metrics.heldElsewhere : metrics.failed)
                    .recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                log.debug("redlock not acquired", metadata: ["redlock.resource": "\(resource)", "redlock.error": "\(failure.error.code)"])
                throw failure.error
            }
            log.trace("redlock retrying", metadata: ["redlock.resource": "\(resource)", "redlock.error": "\(failure.error.code)"])
            if wait.waits, configuration.notifiesWaitersOnRelease, failure.error.code == .heldElsewhere {
                let watch = releaseWatch ?? startWatching(plan.key)
                releaseWatch = watch
                try await waitForRelease(watch, upTo: delay)
            } else {
                try? await Task.sleep(for: delay)  // a cancellation ends the sleep; it is thrown below
            }
            if Task.isCancelled { throw RedLockError(.cancelled, "the task was cancelled while waiting to retry", resource: resource) }
            attempt += 1
        }
    }

    /// Acquires `resource` if nobody else holds it, returning `nil` (rather than throwing) when
    /// another holder has it on a majority. Same parameters as `acquire`.
    ///
    /// - Throws: as `acquire`, except `.heldElsewhere`.
    public func tryAcquire(_ resource: String, ttl: Duration, wait: LockWait = .noWait, logger: Logger? = nil) async throws(RedLockError) -> Lock? {
        do {
            return try await acquire(resource, ttl: ttl, wait: wait, logger: logger)
        } catch where error.code == .heldElsewhere {
            return nil
        }
    }

    /// Why one round failed, and whether the cause may pass by itself (split vote, unreachable
    /// servers) as opposed to another holder having a majority.
    private struct AttemptFailure: Error {
        let error: RedLockError
        let mayPass: Bool
    }

    /// One round: the lock, or why this round failed (having cleaned up after itself).
    private func attemptOnce(_ plan: RoundPlan) async -> Result<Lock, AttemptFailure> {
        func failed(_ code: RedLockError.Code, _ message: String, servers: [ServerReport] = [], mayPass: Bool = false) -> Result<Lock, AttemptFailure> {
            .failure(AttemptFailure(error: RedLockError(code, message, resource: plan.key, servers: servers), mayPass: mayPass))
        }
        guard !Task.isCancelled else { return failed(.cancelled, "the task was cancelled") }
        let token = LockToken.make()
        let value = storedValue(for: token)
        let start = ContinuousClock.now
        let round: Reactor.AcquireRound
        do {
            let command = acquireCommand(plan, value: value)
            // Encoded only when the round fails: a granted round never needs it.
            let cleanup: @Sendable () -> RedisCommand = { [self] in
                endCommand(resource: plan.key, value: value, keepMilliseconds: 0, acquired: false)
            }
            round = try await onLoop { reactor, done in reactor.acquire(plan, command: command, cleanup: cleanup, completion: done) }
            try throwIfShutDown(round.shutDown)
        } catch {
            return .failure(AttemptFailure(error: error, mayPass: false))
        }
        let reports = self.reports(round.outcomes)
        guard round.granted else {
            if let duplicate = round.duplicateServers {
                return failed(.invalidConfiguration, duplicate, servers: reports)
            }
            if let refusal = round.refusal {
                return failed(.refused, refusal, servers: reports)
            }
            if round.heldByMajorityElsewhere {
                return failed(.heldElsewhere, "another holder has the lock on a majority of servers", servers: reports)
            }
            let voted = round.outcomes.count { $0.kind == .heldByAnother || $0.kind == .granted }
            if voted >= plan.quorum {
                return failed(.heldElsewhere, "votes split between contenders; nobody holds a majority", servers: reports, mayPass: true)
            }
            // Another holder plus the servers that could not answer may make a majority: with a
            // minority of servers down, the lock is most likely held elsewhere, not unavailable.
            // With a majority down it is unavailable, whoever the rest name.
            let silent = round.outcomes.count { $0.isFailure }
            if round.largestOtherHolder > 0, silent < plan.quorum, round.largestOtherHolder + silent >= plan.quorum {
                return failed(.heldElsewhere, "another holder has the lock on \(servers(round.largestOtherHolder)) and \(servers(silent)) could not answer",
                              servers: reports, mayPass: true)
            }
            // Wrong credentials or a server that is not Redis will not fix themselves: report them
            // at once rather than waiting through them.
            let misconfigured = round.outcomes.count { $0.kind == .authFailed || $0.kind == .protocolError }
            return failed(.noQuorum, "\(silent) of \(reports.count) servers failed, so no majority (\(plan.quorum)) could grant the lock",
                          servers: reports, mayPass: misconfigured <= reports.count - plan.quorum)
        }
        let lock = Lock(resource: plan.key, token: token, storedValue: value, ttl: plan.ttl, acquiredAt: start,
                        validUntil: start + plan.ttl - plan.drift,
                        grantedBy: reports.filter { $0.outcome.kind == .granted }.map(\.server), pins: round.pins,
                        acquisition: round.reports)
        if Task.isCancelled {
            try? await release(lock)
            return failed(.cancelled, "the task was cancelled; the lock was released")
        }
        let left = lock.validUntil - .now
        if left < plan.minimumValidity {
            try? await release(lock)
            let remaining = left > .zero ? "only \(Int64(left / .milliseconds(1))) ms of" : "no"
            return failed(.noQuorum, "the round left \(remaining) validity, less than the minimum of \(plan.minimumValidity.millisecondsRoundedUp) ms; the lock was released",
                          servers: reports, mayPass: true)
        }
        return .success(lock)
    }

    /// "1 server", "2 servers".
    private func servers(_ count: Int) -> String {
        count == 1 ? "1 server" : "\(count) servers"
    }

    /// How long to pause before the next round, or `nil` to give up.
    private func retryDelay(after failure: AttemptFailure, attempt: Int, wait: LockWait, waitDeadline: ContinuousClock.Instant?) -> Duration? {
        guard failure.error.code == .heldElsewhere || failure.error.code == .noQuorum else { return nil }
        var generator = SystemRandomNumberGenerator()
        let delay = configuration.retryDelay * Double.random(in: 0.5..<1.5, using: &generator)
        if failure.mayPass, attempt < configuration.retryAttempts { return delay }
        guard wait.waits, failure.mayPass || failure.error.code == .heldElsewhere else { return nil }
        guard let waitDeadline else { return delay }
        let left = waitDeadline - .now
        return left > .zero ? min(delay, left) : nil
    }
}
