import Foundation
@testable import RedLock
import RedisTestSupport
import Synchronization
import Testing
import TestLoad

/// Fencing tokens against real servers: unique and increasing over contending clients whose
/// clocks disagree, an hour-slow client still acquires above the fence, fencing off sends today's
/// commands, and `.required` refuses the votes of masters without AOF.
@Suite("Fencing tokens", needsRedis, .load(.timed))
struct FencingTests {
    /// Tokens in the order their holders noted them.
    private final class TokenLog: Sendable {
        private let state = Mutex<[UInt64]>([])
        func append(_ token: UInt64) { state.withLock { $0.append(token) } }
        var tokens: [UInt64] { state.withLock { $0 } }
    }

    /// Acquisitions per contender: `REDLOCK_FENCING_ACQUISITIONS` (5000 for the issue's full
    /// size), else 40.
    static let acquisitionsPerContender = ProcessInfo.processInfo.environment["REDLOCK_FENCING_ACQUISITIONS"].flatMap { Int($0) } ?? 40

    /// 8 contenders, each with its own client and a clock up to an hour off (seeded), take one
    /// resource in turn; each notes its token inside its critical section. In that order (the
    /// order of acquisition) the tokens must strictly increase.
    @Test(.load(.heavy), arguments: [3, 5])
    func tokensOfContendersWithSkewedClocksAreUniqueAndIncreaseInAcquisitionOrder(servers: Int) async throws {
        let cluster = try await RedisCluster.start(count: servers)
        let resource = uniqueResource()
        let tokens = TokenLog()
        var generator = SeededGenerator(seed: FuzzSettings.seed)
        let skews = (0..<8).map { _ in Int64.random(in: -3_600_000_000...3_600_000_000, using: &generator) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for skew in skews {
                group.addTask {
                    try await withClient(cluster, configure: { configuration in
                        configuration.fencing = .bestEffort
                        configuration.tuning.retryDelay = .milliseconds(5)
                        configuration.fencingClock = { UInt64(Int64(FenceProposal.wallClockMicroseconds()) + skew) }
                    }) { client in
                        for _ in 0..<Self.acquisitionsPerContender {
                            let lock = try await client.acquire(resource, ttl: .seconds(10), wait: .upTo(.seconds(60)))
                            let token = try #require(lock.fencingToken)
                            tokens.append(token)
                            try await client.release(lock)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seen = tokens.tokens
        #expect(seen.count == 8 * Self.acquisitionsPerContender)
        let inversions = zip(seen, seen.dropFirst()).filter { $0 >= $1 }
        #expect(inversions.isEmpty, "tokens that did not increase: \(inversions.prefix(5))")
        #expect(seen.allSatisfy { $0 < FenceProposal.limit })
    }

    @Test func aClientWhoseClockIsAnHourBehindAcquiresInASecondRoundWithAHigherToken() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let first = try await withClient(cluster, configure: { $0.fencing = .bestEffort }) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(5))
            try await client.release(lock)
            return try #require(lock.fencingToken)
        }
        try await withClient(cluster, configure: { configuration in
            configuration.fencing = .bestEffort
            configuration.tuning.retryDelay = .seconds(30)  // a pause between rounds would outlast the test
            configuration.fencingClock = { FenceProposal.wallClockMicroseconds() - 3_600_000_000 }
        }) { slow in
            // `exists` runs only inside the fenced acquire: one per round per server.
            let before = try await cluster.calls(of: "exists")
            let started = ContinuousClock.now
            let lock = try await slow.acquire(resource, ttl: .seconds(5))
            #expect(ContinuousClock.now - started < .seconds(10), "the second round ran at once, without the retry delay")
            let after = try await cluster.calls(of: "exists")
            #expect(zip(before, after).map { $1 - $0 } == [2, 2, 2], "two rounds: the first refused as too low, the second above the fences")
            let token = try #require(lock.fencingToken)
            #expect(token > first)
            let extended = try await slow.extend(lock)
            #expect(extended.fencingToken == token, "extend keeps the token")
            try await slow.release(extended)
            let inBody = try await slow.withLock(resource, ttl: .seconds(5)) { held in held.fencingToken }
            #expect(try #require(inBody) > token, "withLock's handle carries the token")
            let next = try await slow.acquire(resource, ttl: .seconds(5))
            #expect(try #require(next.fencingToken) > inBody!, "a new acquisition gets a new, higher token")
            try await slow.release(next)
        }
    }

    /// The commands each server runs for `rounds` acquire+release pairs after a warm-up pair.
    private func commandCounts(fencing: Fencing, rounds: Int) async throws -> (counts: [String: [Int]], cluster: RedisCluster, resource: String) {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let names = ["set", "get", "exists", "eval", "evalsha"]
        return try await withClient(cluster, configure: { $0.fencing = fencing }) { client in
            try await client.release(try await client.acquire(resource, ttl: .seconds(5)))
            var before: [String: [Int]] = [:]
            for name in names { before[name] = try await cluster.calls(of: name) }
            for _ in 0..<rounds { try await client.release(try await client.acquire(resource, ttl: .seconds(5))) }
            var counts: [String: [Int]] = [:]
            for name in names { counts[name] = zip(before[name]!, try await cluster.calls(of: name)).map { $1 - $0 } }
            return (counts, cluster, resource)
        }
    }

    @Test func withFencingOffEachAcquireIsTodaysSingleSetAndNoFenceIsKept() async throws {
        let (counts, cluster, resource) = try await commandCounts(fencing: .off, rounds: 10)
        #expect(counts["set"] == [10, 10, 10], "one SET … NX PX … GET per acquire")
        #expect(counts["evalsha"] == [10, 10, 10], "one release script per release")
        // `exists` runs only inside the fenced acquire (commands that scripts call are counted too).
        #expect(counts["eval"] == [0, 0, 0] && counts["exists"] == [0, 0, 0], "\(counts)")
        #expect(try await cluster.keys("\(resource)*").isEmpty, "no fence key")
    }

    @Test func withFencingOnEachAcquireIsStillOneScriptCallPerServer() async throws {
        let (counts, cluster, resource) = try await commandCounts(fencing: .bestEffort, rounds: 10)
        #expect(counts["evalsha"] == [20, 20, 20], "one script call per acquire and one per release")
        #expect(counts["eval"] == [0, 0, 0], "the script is found by its digest")
        #expect(counts["set"] == [20, 20, 20], "only inside the script: the lock and its fence, \(counts)")
        for server in cluster.servers {
            guard case .string(let fence) = try await server.command(["GET", LockScripts.fenceKey(for: resource)]) else {
                Issue.record("no fence on \(server.url)"); continue
            }
            #expect(UInt64(fence) != nil)
            #expect(try await server.command(["PTTL", LockScripts.fenceKey(for: resource)]) == .integer(-1), "the fence has no TTL")
        }
    }

    @Test func requiredFencingWithholdsTheVoteOfAMasterWithoutAOF() async throws {
        let persistent = try await RedisCluster.start(count: 2)
        let volatile = try await RedisServerProcess.start(persistent: false)
        let urls = persistent.urls + [volatile.url]
        try await withClient(urls, configure: { $0.fencing = .required; $0.restartGuard = .disabled }) { client in
            let lock = try await client.acquire(uniqueResource(), ttl: .seconds(5))
            #expect(!lock.grantedBy.map(\.description).contains(volatile.url))
            let reports = await lock.finalAcquisitionReports()
            let report = try #require(reports.last)
            #expect(report.outcome.kind == .voteWithheld, "\(report)")
            #expect(report.description.contains("without AOF"), "\(report)")
            try await client.release(lock)
        }
        persistent.servers[1].stop()
        try await withClient(urls, configure: { $0.fencing = .required; $0.restartGuard = .disabled; $0.tuning.serverTimeout = .milliseconds(300) }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }
            #expect(error?.servers.last?.description.contains("without AOF") == true, "\(String(describing: error))")
        }
        try await withClient(urls, configure: { $0.fencing = .bestEffort; $0.restartGuard = .disabled }) { client in
            let lock = try await client.acquire(uniqueResource(), ttl: .seconds(5))
            #expect(lock.fencingToken != nil, "best effort uses the master without AOF")
            try await client.release(lock)
        }
    }
}
