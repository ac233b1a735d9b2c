import Foundation
import RedLock
import RedisTestSupport
import Testing
import TestLoad

@Suite("Acquire and release on real servers", needsRedis, .load(.timed))
struct AcquireTests {
    @Test("acquire and release at N = 1, 3, 5", arguments: [1, 3, 5])
    func acquireAndReleaseAtEachClusterSize(count: Int) async throws {
        let cluster = try await RedisCluster.start(count: count)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(10))
            #expect(lock.token.count == 32)
            #expect(lock.grantedBy.count >= count / 2 + 1)
            #expect(lock.remainingValidity > .seconds(9))
            #expect(lock.remainingValidity <= .seconds(10) - .milliseconds(102))
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await cluster.holders(of: resource, value: lock.token) == count)
            try await client.release(lock)
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    /// With `serverTimeout` near the TTL, a round that a stopped majority answers 900 ms into a
    /// 1 s TTL leaves under 90 ms: less than the default minimum (TTL/10), so it is no grant.
    @Test func aGrantThatLeavesLessThanTheMinimumValidityIsReleasedAndFails() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster, configure: { $0.serverTimeout = .milliseconds(980); $0.retryAttempts = 1 }) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(1)))  // connected
            cluster.servers.prefix(2).forEach { $0.pause() }
            let resumer = Task {
                try await Task.sleep(for: .milliseconds(900))
                cluster.servers.prefix(2).forEach { $0.resume() }
            }
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(1)) }
            try await resumer.value
            let timedOut = error?.servers.contains { $0.outcome.kind == .timedOut } ?? false
            // Under heavy load the servers may answer after the timeout instead: no grant either.
            if !timedOut { #expect(error?.message.contains("less than the minimum of 100 ms") == true, "\(String(describing: error))") }
            #expect(await eventually { (try? await cluster.holders(of: resource)) == 0 }, "the short grant was released")
        }
    }

    @Test func tokensAreFreshAndUniquePerAcquisition() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            var tokens = Set<String>()
            for _ in 0..<50 {
                let lock = try await client.acquire(resource, ttl: .seconds(5))
                #expect(lock.token.allSatisfy { $0.isHexDigit })
                tokens.insert(lock.token)
                try await client.release(lock)
            }
            #expect(tokens.count == 50)
        }
    }

    @Test func acquireFailsWhenMajorityIsHeldElsewhereAndLeavesNoKeyOfOurs() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        for server in cluster.servers.prefix(3) {
            try await server.command(["SET", resource, "someone-else", "PX", "30000"])
        }
        try await withClient(cluster) { client in
            let error = await expectRedLockError(.heldElsewhere) {
                try await client.acquire(resource, ttl: .seconds(10))
            }
            #expect(error?.servers.count == 5)
            #expect(error?.description.contains("held by another holder") == true)
            let skipped = try await client.tryAcquire(resource, ttl: .seconds(10))
            #expect(skipped == nil)
        }
        #expect(try await cluster.holders(of: resource, value: "someone-else") == 3)
        #expect(try await cluster.holders(of: resource) == 3, "a failed round must release what it took on the free servers")
    }

    @Test func acquireSucceedsWhenOnlyAMinorityIsHeldElsewhere() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        for server in cluster.servers.prefix(2) {
            try await server.command(["SET", resource, "someone-else", "PX", "30000"])
        }
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(10))
            #expect(lock.grantedBy.count == 3)
            try await client.release(lock)
        }
        #expect(try await cluster.holders(of: resource, value: "someone-else") == 2)
        #expect(try await cluster.holders(of: resource) == 2)
    }

    @Test func releaseWithAStaleTokenChangesNothing() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let stale = try await client.acquire(resource, ttl: .seconds(10))
            try await client.release(stale)
            let current = try await client.acquire(resource, ttl: .seconds(10))
            await expectRedLockError(.notHeld) { try await client.release(stale) }
            #expect(try await cluster.holders(of: resource, value: current.token) == 3)
            await expectRedLockError(.notHeld) { try await client.extend(stale) }
            try await client.release(current)
        }
    }

    @Test func extendBeforeExpiryRenewsTheTTLOnEveryServer() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(2))
            let extended = try await client.extend(lock, ttl: .seconds(60))
            #expect(extended.token == lock.token)
            #expect(extended.validUntil > lock.validUntil + .seconds(50))
            try await Task.sleep(for: .milliseconds(20))
            for server in cluster.servers {
                guard case .integer(let left) = try await server.command(["PTTL", resource]) else {
                    Issue.record("no TTL on \(server.url)"); continue
                }
                #expect(left > 50_000)
            }
            try await client.release(extended)
        }
    }

    @Test func extendAfterExpiryFailsAndNeverRecreatesTheKey() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .milliseconds(400))
            try await Task.sleep(for: .milliseconds(700))
            await expectRedLockError(.notHeld) { try await client.extend(lock) }
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func extendFindsTheKeyGoneOnAMajorityAndDoesNotRecreateIt() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(10))
            for server in cluster.servers.prefix(2) { try await server.command(["DEL", resource]) }
            let error = await expectRedLockError(.notHeld) { try await client.extend(lock) }
            #expect(error?.servers.filter { $0.outcome.kind == .notHeld }.count == 2)
            #expect(try await cluster.holders(of: resource) == 1)
            try? await client.release(lock)
        }
    }

    @Test func unixSocketAddressesWork() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        var configuration = try RedLockConfiguration(serverAddresses: cluster.servers.map(\.unixURL))
        configuration.retryDelay = .milliseconds(20)
        let client = try RedLockClient(configuration: configuration)
        let lock = try await client.acquire(resource, ttl: .seconds(5))
        #expect(try await cluster.holders(of: resource, value: lock.token) >= 2)
        try await client.release(lock)
        await client.shutdown()
        #expect(try await cluster.holders(of: resource) == 0)
    }

    @Test func selectedDatabaseIsUsed() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let resource = uniqueResource()
        var configuration = RedLockConfiguration(servers: [try RedisServerAddress(parsing: cluster.urls[0] + "/3")])
        configuration.retryDelay = .milliseconds(20)
        let client = try RedLockClient(configuration: configuration)
        let lock = try await client.acquire(resource, ttl: .seconds(5))
        #expect(try await cluster.servers[0].command(["EXISTS", resource]) == .integer(0))
        let inDatabase3 = try await cluster.servers[0].command(["EVAL", "redis.call('select', 3) return redis.call('get', KEYS[1])", "1", resource])
        #expect(inDatabase3 == .string(lock.token))
        try await client.release(lock)
        await client.shutdown()
    }

    @Test func scriptsAreReloadedAfterScriptFlush() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let first = try await client.acquire(resource, ttl: .seconds(5))
            try await client.release(first)
            for server in cluster.servers { try await server.command(["SCRIPT", "FLUSH"]) }
            let second = try await client.acquire(resource, ttl: .seconds(5))
            let extended = try await client.extend(second)
            try await client.release(extended)
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func scriptHashesMatchWhatTheServerComputes() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(5))
            try await client.release(lock)
        }
        guard case .array(let loaded) = try await cluster.servers[0].command(["SCRIPT", "EXISTS",
            "d5907300f58b639a2db580f6a178a79851906e98"]) else { Issue.record("SCRIPT EXISTS failed"); return }
        #expect(loaded == [.integer(1)], "the release script must have run by EVALSHA or been cached by EVAL under this hash")
    }
}
