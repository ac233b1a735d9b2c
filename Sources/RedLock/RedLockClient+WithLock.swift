import Logging

extension RedLockClient {
    /// Acquires `resource`, runs `body` while keeping the lock alive, then releases it.
    ///
    /// While `body` runs, the lock is extended every TTL/3, and the `LockHandle` it receives follows
    /// each extension (`handle.remainingValidity` is current). If extensions keep failing until the
    /// lock's validity runs out, or a majority of servers no longer hold its key, the lock is
    /// **lost**: `body`'s task is cancelled (it should stop at its next `await` or
    /// `Task.checkCancellation()`), and once it has returned `withLock` throws `.lockLost`.
    ///
    /// `body` runs in the caller's isolation (an actor's method may touch the actor's state and
    /// the caller's local variables), in a child task of its own, so that losing the lock cancels
    /// the body alone and never the caller.
    ///
    /// - Parameters:
    ///   - minimumHold: when set and `body` returns normally, the key is not deleted at the end but
    ///     kept until this long after acquisition (see `release(_:keepingKeyFor:)`), so that a
    ///     run-once-per-window job does not run again on a host whose clock lags. When `body` throws
    ///     (the work did not happen), the key is deleted at once. Default `nil`: release at once.
    ///   - isolation: where `body` runs; default the caller's.
    ///   - others: as `acquire`.
    /// - Returns: what `body` returned.
    /// - Throws: `RedLockError` from `acquire` (e.g. `.heldElsewhere`), `.lockLost` as above (also
    ///   when the release finds the lock already gone), or `body`'s `Failure` (after release).
    public func withLock<Value, Failure: Error>(
        _ resource: String, ttl: Duration, wait: LockWait = .noWait, minimumHold: Duration? = nil, logger: Logger? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (LockHandle) async throws(Failure) -> Value
    ) async throws -> Value {
        let log = logger ?? configuration.logger
        let lock = try await acquire(resource, ttl: ttl, wait: wait, logger: logger)
        let handle = LockHandle(lock)
        let finish = await withoutActuallyEscaping(body) { body in
            await runBeside(keeper: { await self.keepAlive(handle, logger: log) }, body: body, handle: handle, isolation: isolation)
        }
        switch finish.keeper {
        case .lost(let error):
            metrics.locksLost.increment()
            // Whatever of ours is still on a minority of servers goes now rather than at its TTL.
            try? await release(lock, logger: logger)
            log.debug("redlock lost; body cancelled", metadata: ["redlock.resource": "\(resource)"])
            throw error
        case .stopped(let current) where finish.bodyEnded >= current.validUntil:
            // The body outlived the lock's validity (e.g. while an extension was still out): its
            // work may have overlapped another holder's, so it does not count as done under lock.
            metrics.locksLost.increment()
            try? await release(current, logger: logger)
            throw RedLockError(.lockLost, "the body ran past the lock's validity before an extension confirmed it",
                               resource: resource)
        case .stopped(let current):
            do {
                var bodyReturned = false
                if case .success = finish.bodyResult { bodyReturned = true }
                let keep = bodyReturned ? minimumHold.map { $0 - (ContinuousClock.now - lock.acquiredAt) } ?? .zero : .zero
                try await release(current, keepingKeyFor: keep, logger: logger)
            } catch where error.code == .notHeld {
                metrics.locksLost.increment()
                throw RedLockError(.lockLost, "the lock had expired or been taken over by the time the body finished",
                                   resource: resource, servers: error.servers)
            } catch {
                log.debug("redlock release failed; the key expires after its TTL", metadata: ["redlock.resource": "\(resource)", "redlock.error": "\(error)"])
            }
            return try finish.bodyResult.get()
        }
    }

    /// How the body and the keeper ended.
    private struct Finish<Value, Failure: Error> {
        var bodyResult: Result<Value, Failure>
        var bodyEnded: ContinuousClock.Instant
        var keeper: KeeperResult
    }

    /// Runs `body` (in `isolation`) and `keeper` as two child tasks; whichever ends first cancels
    /// the other.
    ///
    /// The body is not `Sendable` and is still handed to a child task, through `Unchecked`: this
    /// is safe because the caller stays suspended here until that task has ended (nothing of the
    /// caller's runs beside the body), and the body runs on the caller's actor when it has one.
    private func runBeside<Value, Failure: Error>(
        keeper: @escaping @Sendable () async -> KeeperResult, body: @escaping (LockHandle) async throws(Failure) -> Value,
        handle: LockHandle, isolation: isolated (any Actor)?
    ) async -> Finish<Value, Failure> {
        let uncheckedBody = Unchecked(body), actor = Unchecked(isolation)
        return await withTaskGroup(of: Child<Value, Failure>.self) { group in
            group.addTask {
                .body(await Self.call(uncheckedBody.value, handle, isolation: actor.value))
            }
            group.addTask { .keeper(await keeper()) }
            var bodyResult: Result<Value, Failure>?
            var bodyEnded = ContinuousClock.now
            var keeperResult: KeeperResult?
            while let child = await group.next() {
                switch child {
                case .body(let result):
                    bodyResult = result.value
                    bodyEnded = .now
                    group.cancelAll()
                case .keeper(let result):
                    keeperResult = result
                    group.cancelAll()
                }
            }
            return Finish(bodyResult: bodyResult!, bodyEnded: bodyEnded, keeper: keeperResult!)
        }
    }

    /// Calls `body` on `isolation`'s executor; its result goes back to the caller, in the same
    /// isolation, through `Unchecked` (see `runBeside`).
    private static func call<Value, Failure: Error>(
        _ body: (LockHandle) async throws(Failure) -> Value, _ handle: LockHandle, isolation: isolated (any Actor)?
    ) async -> Unchecked<Result<Value, Failure>> {
        do throws(Failure) {
            return Unchecked(.success(try await body(handle)))
        } catch {
            return Unchecked(.failure(error))
        }
    }

    private enum Child<Value, Failure: Error>: Sendable {
        case body(Unchecked<Result<Value, Failure>>)
        case keeper(KeeperResult)
    }

    private enum KeeperResult: Sendable {
        /// Cancelled because the body finished; the lock as last extended.
        case stopped(Lock)
        /// The lock could not be kept.
        case lost(RedLockError)
    }

    /// Extends `lock` every TTL/3 until cancelled. A failed extension is retried every TTL/10
    /// while validity remains; the lock is lost when validity runs out or a majority says the key
    /// is gone.
    private func keepAlive(_ handle: LockHandle, logger: Logger) async -> KeeperResult {
        var lock = handle.lock
        var lastFailure: RedLockError?
        var nextExtension = ContinuousClock.now + lock.ttl / 3
        while true {
            do {
                try await Task.sleep(until: min(nextExtension, lock.validUntil), clock: .continuous)
            } catch {
                return .stopped(lock)
            }
            if ContinuousClock.now >= lock.validUntil {
                let reason = lastFailure.map { ": \($0.message)" } ?? ""
                return .lost(RedLockError(.lockLost, "the lock could not be extended before its validity ran out\(reason)",
                                          resource: lock.resource, servers: lastFailure?.servers ?? []))
            }
            do {
                lock = try await extend(lock, logger: logger)
                handle.update(lock)
                nextExtension = ContinuousClock.now + lock.ttl / 3
            } catch where error.code == .notHeld {
                return .lost(RedLockError(.lockLost, "the lock's key vanished or changed hands on a majority of servers",
                                          resource: lock.resource, servers: error.servers))
            } catch {
                if Task.isCancelled { return .stopped(lock) }
                lastFailure = error
                logger.debug("redlock extension failed; retrying", metadata: ["redlock.resource": "\(lock.resource)", "redlock.error": "\(error)"])
                nextExtension = ContinuousClock.now + lock.ttl / 10
            }
        }
    }
}
