import RedLock
import RedisTestSupport
import Synchronization
import Testing
import TestLoad

@Suite("Contention: mutual exclusion, split votes, clean-up", needsRedis, .load(.timed))
struct ContentionTests {
    /// Tracks how many holders are inside the critical section at once.
    final class Occupancy: Sendable {
        private let state = Mutex((inside: 0, most: 0, entries: 0))
        func enter() { state.withLock { $0.inside += 1; $0.most = max($0.most, $0.inside); $0.entries += 1 } }
        func leave() { state.withLock { $0.inside -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var entries: Int { state.withLock { $0.entries } }
    }

    final class SharedCount: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    @Test func concurrentAcquirersNeverHoldTheLockTogether() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let occupancy = Occupancy()
        let clients = try (0..<4).map { _ in try makeClient(cluster) }
        await withThrowingTaskGroup(of: Void.self) { group in
            for contender in 0..<8 {
                let client = clients[contender % clients.count]
                group.addTask {
                    for _ in 0..<40 {
                        guard let lock = try await client.tryAcquire(resource, ttl: .seconds(5)) else { continue }
                        occupancy.enter()
                        try await Task.sleep(for: .microseconds(500))
                        occupancy.leave()
                        try await client.release(lock)
                    }
                }
            }
        }
        #expect(occupancy.most == 1)
        #expect(occupancy.entries > 0)
        #expect(try await cluster.holders(of: resource) == 0)
        for client in clients { await client.shutdown() }
    }

    @Test func aRoundThatFindsAnotherHolderSendsNoCleanUp() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let holder = try makeClient(cluster)
        let rival = try makeClient(cluster) { $0.tuning.retryAttempts = 1 }
        let lock = try await holder.acquire(resource, ttl: .seconds(30))
        let scriptsBefore = try await zip(cluster.calls(of: "evalsha"), cluster.calls(of: "eval")).map(+)
        for _ in 0..<20 { #expect(try await rival.tryAcquire(resource, ttl: .seconds(30)) == nil) }
        let scriptsAfter = try await zip(cluster.calls(of: "evalsha"), cluster.calls(of: "eval")).map(+)
        // A server that answered with the holder's token wrote nothing and gets no release. Only a
        // server still silent when the majority decided the round may have written: at most one
        // of three per round (every server, before).
        let cleanUps = zip(scriptsAfter, scriptsBefore).map(-).reduce(0, +)
        #expect(cleanUps <= 20, "\(cleanUps) clean-up scripts for 20 rounds that wrote nothing")
        try await holder.release(lock)
        await holder.shutdown()
        await rival.shutdown()
    }

    @Test func tenHostsStartingAtOnceEndWithExactlyOneHolder() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        let hosts = try (0..<10).map { _ in try makeClient(cluster) }
        for host in hosts { try await host.release(try await host.acquire(uniqueResource(), ttl: .seconds(1))) }
        let winners = try await withThrowingTaskGroup(of: Lock?.self) { group in
            for host in hosts { group.addTask { try await host.tryAcquire(resource, ttl: .seconds(30)) } }
            return try await group.reduce(into: [Lock]()) { if let lock = $1 { $0.append(lock) } }
        }
        #expect(winners.count == 1, "split votes must be retried until one host wins, and only one")
        if let winner = winners.first {
            #expect(try await cluster.holders(of: resource, value: winner.token) >= 3)
            let winnerKeys = try await cluster.holders(of: resource, value: winner.token)
            #expect(try await cluster.holders(of: resource) == winnerKeys, "losers left nothing behind")
        }
        for host in hosts { await host.shutdown() }
    }

    @Test func noStaleKeysAfterAThousandContendedFailedRounds() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        // A foreign holder on two servers: a round needs all three others, so most rounds fail
        // part-way and must clean up what they took.
        for server in cluster.servers.prefix(2) { try await server.command(["SET", resource, "foreign", "PX", "600000"]) }
        let failedRounds = SharedCount()
        let clients = try (0..<8).map { _ in try makeClient(cluster) { $0.tuning.retryAttempts = 1 } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    while failedRounds.value < 1000 {
                        if let lock = try await client.tryAcquire(resource, ttl: .seconds(30)) {
                            try await client.release(lock)
                        } else {
                            failedRounds.increment()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        for client in clients { await client.shutdown() }
        #expect(failedRounds.value >= 1000)
        #expect(try await cluster.holders(of: resource, value: "foreign") == 2)
        #expect(try await cluster.holders(of: resource) == 2, "a failed round left a key of ours behind")
    }

    @Test func waiterTakesOverWhenTheHolderReleases() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let holder = try await client.acquire(resource, ttl: .seconds(10))
            let waiter = Task { try await client.acquire(resource, ttl: .seconds(10), wait: .upTo(.seconds(5))) }
            try await Task.sleep(for: .milliseconds(200))
            try await client.release(holder)
            let next = try await waiter.value
            #expect(next.token != holder.token)
            try await client.release(next)
        }
    }

    @Test func waitingRunsOutWithHeldElsewhere() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let holder = try await client.acquire(resource, ttl: .seconds(10))
            let start = ContinuousClock.now
            await expectRedLockError(.heldElsewhere) { try await client.acquire(resource, ttl: .seconds(10), wait: .upTo(.milliseconds(300))) }
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(300))
            #expect(waited < Duration.seconds(2).scaled)
            try await client.release(holder)
        }
    }
}
