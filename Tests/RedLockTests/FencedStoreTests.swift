import Foundation
@testable import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// The point of fencing: when the lock alone fails and two holders overlap, a resource that accepts
/// a write only with a token at least the highest it has seen keeps the data safe. Each case builds
/// an overlap on real servers; the store (a key on a separate Redis) then refuses the older holder.
@Suite("Fenced store: overlapping holders cannot write out of order", needsRedis, .load(.timed))
struct FencedStoreTests {
    private static let ttl = Duration.seconds(5)

    private func configuration(_ urls: [String], clockOffset: Int64 = 0) throws -> RedLockConfiguration {
        try testConfiguration(urls) { configuration in
            configuration.fencing = .bestEffort
            configuration.restartGuard = .disabled
            configuration.tuning.serverTimeout = .milliseconds(300)
            configuration.tuning.retryAttempts = 1
            configuration.fencingClock = { UInt64(Int64(FenceProposal.wallClockMicroseconds()) + clockOffset) }
        }
    }

    /// The first holder writes, the second (who got the lock while the first still held it, or
    /// after it paused past its validity) writes, then the first writes again: refused.
    private func expectStoreRefusesTheOlderHolder(first: Lock, second: Lock, store: FencedStore,
                                                  sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (older, newer) = (try #require(first.fencingToken), try #require(second.fencingToken))
        #expect(newer > older, "the later acquisition has the greater token", sourceLocation: sourceLocation)
        #expect(try await store.write(first.resource, token: newer, writer: "second"), sourceLocation: sourceLocation)
        #expect(try await !store.write(first.resource, token: older, writer: "first"), "the older holder's write after the newer one's is refused",
                sourceLocation: sourceLocation)
        let accepted = try await store.writes(first.resource).filter(\.accepted).map(\.token)
        #expect(accepted == accepted.sorted(), "no accepted write with an older token after a newer one: \(accepted)", sourceLocation: sourceLocation)
    }

    /// The first holder's write, before any overlap: accepted.
    private func expectFirstWriteAccepted(_ first: Lock, store: FencedStore, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let token = try #require(first.fencingToken, "fencing is on: every lock has a token", sourceLocation: sourceLocation)
        #expect(try await store.write(first.resource, token: token, writer: "first"), sourceLocation: sourceLocation)
    }

    /// A master whose clock jumps forward expires the first holder's key early (emulated with
    /// `PEXPIRE key 1` there: Debian's redis-server is linked with jemalloc, which libfaketime
    /// cannot run under). With C down when the first client acquired, the second gets A and C, a
    /// majority, while the first lock is valid. The second client's clock is an hour slow, yet its
    /// token is greater: A, the master the two majorities share, kept the first token as its fence.
    @Test func aMasterWhoseClockJumpsForwardLetsASecondHolderInButNotBelowTheFence() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let store = try await FencedStore.start()
        let resource = uniqueResource()
        cluster.servers[2].stop()
        try await withClient(configuration(cluster.urls)) { firstClient in
            let first = try await firstClient.acquire(resource, ttl: Self.ttl)
            try await expectFirstWriteAccepted(first, store: store)
            try await cluster.servers[2].restart()
            #expect(try await cluster.servers[0].command(["PEXPIRE", resource, "1"]) == .integer(1))
            try await Task.sleep(for: .milliseconds(20))
            try await withClient(configuration(cluster.urls, clockOffset: -3_600_000_000)) { secondClient in
                let second = try await secondClient.acquire(resource, ttl: Self.ttl)
                #expect(first.validUntil > .now, "the two holders overlap: the first lock is still valid")
                #expect(Set(second.grantedBy.map(\.description)) == [cluster.servers[0].url, cluster.servers[2].url])
                try await expectStoreRefusesTheOlderHolder(first: first, second: second, store: store)
            }
        }
    }

    /// A master without persistence killed and restarted at once, with the restart guard off (the
    /// operating contract broken): the second client gets A (empty again), D and E (down when the
    /// first client acquired) while the first lock on A, B and C is valid. No master of the second
    /// majority remembers the first token; the clocks (synchronised here) still order the tokens.
    @Test func anImmediateRestartWithTheGuardOffOverlapsAndTheClockStillOrdersTheTokens() async throws {
        let cluster = try await RedisCluster.start(count: 5, persistent: false)
        let store = try await FencedStore.start()
        let resource = uniqueResource()
        cluster.servers[3].stop()
        cluster.servers[4].stop()
        try await withClient(configuration(cluster.urls)) { firstClient in
            let first = try await firstClient.acquire(resource, ttl: Self.ttl)
            try await expectFirstWriteAccepted(first, store: store)
            for index in [3, 4] { try await cluster.servers[index].restart() }
            cluster.servers[0].stop()
            try await cluster.servers[0].restart()
            try await withClient(configuration(cluster.urls)) { secondClient in
                let second = try await secondClient.acquire(resource, ttl: Self.ttl)
                #expect(first.validUntil > .now, "the two holders overlap: the first lock is still valid")
                #expect(Set(second.grantedBy.map(\.description)) == Set([0, 3, 4].map { cluster.servers[$0].url }))
                try await expectStoreRefusesTheOlderHolder(first: first, second: second, store: store)
            }
        }
    }

    /// The classic case: a holder pauses (GC, SIGSTOP) past its validity, another takes the lock
    /// and writes, and the first wakes up and writes as if it still held the lock.
    @Test func aHolderPausedPastItsValidityCannotWriteAfterTheNextHolder() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let store = try await FencedStore.start()
        let resource = uniqueResource()
        try await withClient(configuration(cluster.urls)) { firstClient in
            let first = try await firstClient.acquire(resource, ttl: .seconds(1))
            try await expectFirstWriteAccepted(first, store: store)
            try await Task.sleep(for: .milliseconds(1200))  // the pause
            try await withClient(configuration(cluster.urls)) { secondClient in
                let second = try await secondClient.acquire(resource, ttl: Self.ttl)
                try await expectStoreRefusesTheOlderHolder(first: first, second: second, store: store)
            }
        }
    }
}
