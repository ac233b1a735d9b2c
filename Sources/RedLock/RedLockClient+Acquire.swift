import Logging
import RedisIO

// The acquisition, step by step: the "How acquisition works" section of the DocC catalog
// (RedLock.docc/SafetyModel.md).
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
        let retry = RetryPolicy(attempts: configuration.retryAttempts, delay: configuration.retryDelay, wait: wait,
                                waitDeadline: wait.limit.map { started + $0 }, listensForRelease: configuration.notifiesWaitersOnRelease)
        var random = SystemRandomNumberGenerator()
        var attempt = 1
        var immediateRetries = 0
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
            if failure.retryAtOnce, immediateRetries < FenceProposal.immediateRetries {
                immediateRetries += 1
                log.trace("redlock retrying above the fences", metadata: ["redlock.resource": "\(resource)"])
                continue
            }
            immediateRetries = 0
            guard case .retry(let delay, let listenForRelease) = retry.next(after: failure.error.code, mayPass: failure.mayPass, attempt: attempt,
                                                                            now: .now, using: &random) else {
                (failure.error.code == .heldElsewhere ? metrics.heldElsewhere : metrics.failed)
                    .recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                log.debug("redlock not acquired", metadata: ["redlock.resource": "\(resource)", "redlock.error": "\(failure.error.code)"])
                throw failure.error
            }
            log.trace("redlock retrying", metadata: ["redlock.resource": "\(resource)", "redlock.error": "\(failure.error.code)"])
            if listenForRelease {
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

    /// Acquires `resource` if nobody else holds it, without waiting: returns `nil` (rather than
    /// throwing) when another holder has it on a majority.
    ///
    /// Like `acquire(_:ttl:wait:logger:)` with `.noWait`, it still runs up to
    /// `RedLockConfiguration.Tuning.retryAttempts` rounds when a round fails for a reason that may
    /// pass (votes split between contenders, servers unreachable), so it can take up to that many
    /// rounds and pauses. When votes stay split through every round, it returns `nil` too.
    ///
    /// - Throws: `RedLockError` `.noQuorum`, `.invalidConfiguration`, `.invalidArgument`,
    ///   `.cancelled`, `.clientShutDown` (as `acquire`); never `.heldElsewhere`.
    public func tryAcquire(_ resource: String, ttl: Duration, logger: Logger? = nil) async throws(RedLockError) -> Lock? {
        do {
            return try await acquire(resource, ttl: ttl, wait: .noWait, logger: logger)
        } catch where error.code == .heldElsewhere {
            return nil
        }
    }

    /// Why one round failed, and whether the cause may pass by itself (split vote, unreachable
    /// servers) as opposed to another holder having a majority.
    private struct AttemptFailure: Error {
        let error: RedLockError
        let mayPass: Bool
        /// Masters refused the fencing proposal as too low: the next round may start at once.
        var retryAtOnce = false
    }

    /// One round: the lock, or why this round failed (having cleaned up after itself).
    private func attemptOnce(_ plan: RoundPlan) async -> Result<Lock, AttemptFailure> {
        func failed(_ code: RedLockError.Code, _ message: String, servers: [ServerReport] = [], mayPass: Bool = false) -> Result<Lock, AttemptFailure> {
            .failure(AttemptFailure(error: RedLockError(code, message, resource: plan.key, servers: servers), mayPass: mayPass))
        }
        guard !Task.isCancelled else { return failed(.cancelled, "the task was cancelled") }
        var proposal: UInt64?
        if plan.fencing.isOn {
            proposal = FenceProposal.make(clockMicroseconds: configuration.fencingClock(), highestSeen: fences.highest(for: plan.key))
            guard proposal != nil else { return failed(.refused, "the fence of this resource has reached 2^53, the largest fencing token") }
        }
        let token = LockToken.make()
        let value = storedValue(for: token)
        let start = ContinuousClock.now
        let round: Reactor.AcquireRound
        do {
            let command = acquireCommand(plan, value: value, proposal: proposal)
            // Encoded only when the round fails: a granted round never needs it.
            let cleanup: @Sendable () -> RedisCommand = { [self] in
                endCommand(resource: plan.key, value: value, keepMilliseconds: 0, acquired: false)
            }
            round = try await onLoop { reactor, done in reactor.acquire(plan, startedAt: start, command: command, cleanup: cleanup, completion: done) }
            try throwIfShutDown(round.shutDown)
        } catch {
            return .failure(AttemptFailure(error: error, mayPass: false))
        }
        let granted: Bool = if case .grant = round.verdict { true } else { false }
        fences.record(round.fences + (granted ? proposal.map { [$0] } ?? [] : []), for: plan.key)
        switch round.verdict {
        case .fail(let failure, _):
            let retryAtOnce: Bool = if case .fenceTooLow = failure { true } else { false }
            return .failure(AttemptFailure(error: RedLockError(failure.code, failure.message, resource: plan.key, servers: reports(round.outcomes)),
                                           mayPass: failure.mayPass, retryAtOnce: retryAtOnce))
        case .grant(let validUntil):
            let lock = Lock(resource: plan.key, token: token, storedValue: value, ttl: plan.ttl, acquiredAt: start, validUntil: validUntil,
                            grantedBy: zip(configuration.servers, round.outcomes).compactMap { $1.kind == .granted ? $0 : nil },
                            pins: round.pins, acquisition: round.reports, fencingToken: proposal)
            if Task.isCancelled {
                try? await release(lock)
                return failed(.cancelled, "the task was cancelled; the lock was released")
            }
            if let shortfall = AcquireRoundMachine.validityShortfall(of: validUntil, plan: plan, now: .now) {
                try? await release(lock)
                return .failure(AttemptFailure(error: RedLockError(shortfall.code, shortfall.message, resource: plan.key, servers: reports(round.outcomes)),
                                               mayPass: shortfall.mayPass))
            }
            return .success(lock)
        }
    }
}
