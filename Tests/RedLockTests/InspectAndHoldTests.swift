import RedLock
import RedisTestSupport
import Testing
import TestLoad

@Suite("inspect, holder identity and keeping a key after release", needsRedis, .load(.timed))
struct InspectAndHoldTests {
    @Test func inspectReportsTheHolderIdentityTTLAndVerdict() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster, configure: { $0.holderIdentity = "host=web-3 pid=42" }) { client in
            let free = try await client.inspect(resource)
            #expect(free.verdict == .free)
            #expect(free.majorityAnswered)

            let lock = try await client.acquire(resource, ttl: .seconds(20))
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await cluster.holders(of: resource, value: lock.token + "|host=web-3 pid=42") == 3)
            let held = try await client.inspect(resource)
            guard case .heldByMajority(let holder) = held.verdict else { Issue.record("\(held)"); return }
            #expect(holder.identity == "host=web-3 pid=42")
            #expect(held.servers.allSatisfy { ($0.timeToLive ?? .zero) > .seconds(15) })
            #expect(!held.description.contains(lock.token))
            // However it is printed: the servers, the verdict, a holder, dumped.
            var dumped = ""
            dump(held, to: &dumped)
            for printed in ["\(held.servers)", "\(held.verdict)", "\(holder)", String(reflecting: held), dumped] {
                #expect(!printed.contains(lock.token), "the token must not be printed: \(printed)")
            }
            #expect(held.description.contains("host=web-3 pid=42"), "\(held)")

            let extended = try await client.extend(lock)
            try await client.release(extended)
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func inspectSaysUnknownWhenAMajorityCannotAnswer() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = .milliseconds(200) }) { client in
            cluster.servers.prefix(2).forEach { $0.stop() }
            let inspection = try await client.inspect(resource)
            #expect(inspection.verdict == .unknown)
            #expect(!inspection.majorityAnswered)
            #expect(inspection.servers.filter { $0.outcome.isFailure }.count == 2)
        }
    }

    @Test func releaseKeepingTheKeyShortensItsTTLInsteadOfDeleting() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(30))
            let window = Duration.seconds(2).scaled
            try await client.release(lock, keepingKeyFor: window)
            for server in cluster.servers {
                guard case .integer(let left) = try await server.command(["PTTL", resource]) else { Issue.record("no key"); continue }
                #expect(left > 0 && Double(left) <= window / .milliseconds(1))
            }
            #expect(try await client.tryAcquire(resource, ttl: .seconds(5)) == nil, "still held inside the window")
            try await Task.sleep(for: window + Duration.milliseconds(300).scaled)
            let next = try await client.tryAcquire(resource, ttl: .seconds(5))
            #expect(next != nil, "free after the window")
            if let next { try await client.release(next, keepingKeyFor: .zero) }
            #expect(try await cluster.holders(of: resource) == 0, "a window already past deletes the key")
        }
    }

    @Test func withLockMinimumHoldKeepsTheKeyUntilTheWindowEnds() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let window = Duration.seconds(2).scaled
            try await client.withLock(resource, ttl: .seconds(10) + window, minimumHold: window) { _ in }
            #expect(try await cluster.holders(of: resource) == 3)
            try await Task.sleep(for: window + Duration.milliseconds(300).scaled)
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }
}
