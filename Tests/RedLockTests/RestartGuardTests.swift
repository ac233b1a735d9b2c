import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// A master that restarted without persistence does not vote for the restart guard's window; one
/// with AOF, or with the guard off, votes at once. Servers are restarted by SIGKILL, for real.
@Suite("Restart guard: recently restarted masters without persistence do not vote", needsRedis, .load(.timed))
struct RestartGuardTests {
    /// The guard's window here: the call's TTL.
    static let ttl = Duration.seconds(1)

    /// Three servers up for longer than `window` (so the guard lets them vote), C stopped; the
    /// client has locked once through A and B; then A is killed and restarted at once.
    private func restartOneOfTwo(persistent: Bool, window: Duration = RestartGuardTests.ttl,
                                 configure: @escaping (inout RedLockConfiguration) -> Void = { _ in },
                                 _ afterRestart: (RedLockClient, RedisCluster) async throws -> Void) async throws {
        let cluster = try await RedisCluster.start(count: 3, persistent: persistent)
        try await Task.sleep(for: window + .milliseconds(2200))  // the guard reads uptime_in_seconds − 1 s
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = .milliseconds(300); configure(&$0) }) { client in
            cluster.servers[2].stop()
            try await client.release(try await client.acquire(uniqueResource(), ttl: Self.ttl))
            cluster.servers[0].stop()
            try await cluster.servers[0].restart()
            try await afterRestart(client, cluster)
        }
    }

    /// A 3 s window (wider than the TTL, so a loaded machine does not outlast it before the
    /// first attempt), then a wait past it.
    @Test func aMasterRestartedWithoutPersistenceDoesNotVoteUntilTheWindowHasPassed() async throws {
        let window = Duration.seconds(3)
        try await restartOneOfTwo(persistent: false, window: window, configure: { $0.restartGuard = .atLeast(window) }) { client, cluster in
            let restarted = ContinuousClock.now
            let resource = uniqueResource()
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: Self.ttl) }
            let a = try #require(error?.servers.first)
            #expect(a.outcome.kind == .voteWithheld, "\(String(describing: error))")
            #expect(a.description.contains("restarted") && a.description.contains("s ago without persistence"), "\(a)")
            for server in cluster.servers.prefix(2) {
                #expect(try await server.command(["EXISTS", resource]) == .integer(0), "the withheld grant was cleaned up")
            }
            // The window counts from the restart, not from the handshake's reading: it ends by itself.
            // The start is read in whole seconds, taken at its latest: up to 2 s after the real one.
            try await Task.sleep(until: restarted + window + .milliseconds(2200))
            let lock = try await client.acquire(resource, ttl: Self.ttl)
            #expect(lock.grantedBy.map(\.description).contains(cluster.servers[0].url))
            try await client.release(lock)
        }
    }

    @Test func aMasterWithAOFVotesAtOnceAfterARestart() async throws {
        try await restartOneOfTwo(persistent: true) { client, cluster in
            let lock = try await client.acquire(uniqueResource(), ttl: Self.ttl)
            #expect(lock.grantedBy.map(\.description).contains(cluster.servers[0].url))
            try await client.release(lock)
        }
    }

    @Test func withTheGuardDisabledARestartedMasterVotesAtOnce() async throws {
        try await restartOneOfTwo(persistent: false, configure: { $0.restartGuard = .disabled }) { client, cluster in
            let lock = try await client.acquire(uniqueResource(), ttl: Self.ttl)
            #expect(lock.grantedBy.map(\.description).contains(cluster.servers[0].url))
            try await client.release(lock)
        }
    }

    @Test func atLeastWidensTheWindowBeyondTheTTL() async throws {
        let cluster = try await RedisCluster.start(count: 3, persistent: false)
        try await Task.sleep(for: .milliseconds(3200))  // older than the TTL's window: uptime_in_seconds − 1 s
        try await withClient(cluster, configure: { $0.restartGuard = .atLeast(.seconds(30)) }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: Self.ttl) }
            #expect(error?.servers.allSatisfy { $0.outcome.kind == .voteWithheld || $0.outcome.kind == .notAwaited } == true)
            #expect(error?.description.contains("s ago without persistence") == true, "\(String(describing: error))")
        }
        try await withClient(cluster) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: Self.ttl))
        }
    }
}
