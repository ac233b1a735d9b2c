import RedLock
import RedisTestSupport
import Synchronization
import Testing
import TestLoad

@Suite("withLock: automatic extension, loss, cancellation", needsRedis, .load(.timed))
struct WithLockTests {
    @Test func bodyRunsUnderTheLockWhichIsReleasedAfterwards() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let token = try await client.withLock(resource, ttl: .seconds(5)) { lock in
                let holders = try await cluster.holders(of: resource, value: lock.token)
                #expect(holders >= 2)
                return lock.token
            }
            #expect(token.count == 32)
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func lockIsExtendedWhileTheBodyOutlivesTheTTL() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            // Both scaled: under sanitizers an extension round is slower, but the body still
            // outlives more than two TTLs.
            try await client.withLock(resource, ttl: Duration.milliseconds(1500).scaled) { lock in
                try await Task.sleep(for: Duration.seconds(4).scaled)
                #expect(try await cluster.holders(of: resource, value: lock.token) == 3, "the key must still be ours after 3 TTLs")
            }
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func handleFollowsExtensionsSoTheBodySeesCurrentValidity() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let ttl = Duration.milliseconds(1500).scaled  // as the extension test above: room for a loaded machine
        try await withClient(cluster) { client in
            try await client.withLock(resource, ttl: ttl) { handle in
                let acquiredValidity = handle.validUntil
                try await Task.sleep(for: ttl * 2)
                #expect(handle.validUntil > acquiredValidity + ttl, "two TTLs later the handle shows the extensions")
                #expect(handle.remainingValidity > .zero, "the lock is still valid, and the handle says so")
                #expect(handle.lock.validUntil == handle.validUntil)
                #expect(!handle.description.contains(handle.token), "the description never shows the token")
            }
        }
    }

    @Test func bodyRunsInTheCallersIsolationAndMayMutateItsState() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let counter = IsolatedCounter()
            #expect(try await counter.countUnderLock(client, resource) == 2)
            var localRuns = 0  // a caller's local variable: no `@Sendable` body could change it
            try await client.withLock(resource, ttl: .seconds(5)) { _ in localRuns += 1 }
            #expect(localRuns == 1)
        }
    }

    @Test func bodyIsCancelledWhenTheKeyIsDeletedBehindItsBack() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let sawCancellation = Mutex(false)
        try await withClient(cluster) { client in
            let start = ContinuousClock.now
            let ttl = Duration.seconds(2).scaled
            let error = await expectRedLockError(.lockLost) {
                try await client.withLock(resource, ttl: ttl) { _ in
                    for server in cluster.servers { try await server.command(["DEL", resource]) }
                    do {
                        try await Task.sleep(for: .seconds(30))
                    } catch {
                        sawCancellation.withLock { $0 = true }
                    }
                }
            }
            #expect(error?.description.contains("vanished") == true)
            #expect(ContinuousClock.now - start < ttl, "loss is noticed at the next extension (TTL/3), before validity ends")
        }
        #expect(sawCancellation.withLock { $0 })
    }

    @Test func bodyIsCancelledWhenExtensionsFailUntilValidityRunsOut() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let sawCancellation = Mutex(false)
        try await withClient(cluster, configure: { $0.serverTimeout = .milliseconds(50) }) { client in
            await expectRedLockError(.lockLost) {
                try await client.withLock(resource, ttl: .milliseconds(900)) { lock in
                    cluster.servers.prefix(2).forEach { $0.pause() }
                    do {
                        try await Task.sleep(for: .seconds(30))
                    } catch {
                        sawCancellation.withLock { $0 = true }
                        #expect(ContinuousClock.now >= lock.validUntil - .milliseconds(50), "cancelled only once validity ran out")
                    }
                }
            }
            cluster.servers.prefix(2).forEach { $0.resume() }
        }
        #expect(sawCancellation.withLock { $0 })
    }

    @Test func bodyErrorsPropagateAfterRelease() async throws {
        struct BodyFailure: Error {}
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            await #expect(throws: BodyFailure.self) {
                try await client.withLock(resource, ttl: .seconds(5)) { _ in throw BodyFailure() }
            }
            let holders = try await cluster.holders(of: resource)
            #expect(holders == 0)
        }
    }

    @Test func cancellingTheCallerCancelsTheBodyAndReleases() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let client = try makeClient(cluster)
        let entered = AsyncStream<Void>.makeStream()
        let task = Task {
            try await client.withLock(resource, ttl: .seconds(5)) { _ in
                entered.continuation.yield()
                try await Task.sleep(for: .seconds(30))
            }
        }
        var iterator = entered.stream.makeAsyncIterator()
        await iterator.next()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await cluster.holders(of: resource) == 0)
        await client.shutdown()
    }

    @Test func acquireInACancelledTaskFailsWithCancelledAndLeavesNothing() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let client = try makeClient(cluster)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.acquire(resource, ttl: .seconds(5))
        }
        let result = await task.result
        #expect(throws: RedLockError.self) { try result.get() }
        #expect((try? result.get()) == nil)
        if case .failure(let error as RedLockError) = result { #expect(error.code == .cancelled) }
        #expect(try await cluster.holders(of: resource) == 0)
        await client.shutdown()
    }

    @Test func waitingAcquireIsCancellable() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let client = try makeClient(cluster)
        let holder = try await client.acquire(resource, ttl: .seconds(10))
        let waiter = Task { try await client.acquire(resource, ttl: .seconds(5), wait: .forever) }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        let result = await waiter.result
        if case .failure(let error as RedLockError) = result { #expect(error.code == .cancelled) } else { Issue.record("expected cancellation, got \(result)") }
        try await client.release(holder)
        #expect(try await cluster.holders(of: resource) == 0)
        await client.shutdown()
    }
}

/// An actor whose `withLock` body changes its state without a hop or a `Sendable` closure.
private actor IsolatedCounter {
    private var runs = 0

    func countUnderLock(_ client: RedLockClient, _ resource: String) async throws -> Int {
        for _ in 0..<2 {
            try await client.withLock(resource, ttl: .seconds(5)) { _ in
                assertIsolated("the body runs on the caller's actor")
                runs += 1
            }
        }
        return runs
    }
}
