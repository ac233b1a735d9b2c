import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// What happens when a retired connection (one that timed out but stays open for what it carries)
/// is finally closed while another round still waits on it.
@Suite("Retired connections: closing one while a round waits on it", needsRedis, .load(.timed))
struct RetiredConnectionTests {
    /// Two acquisitions go out on one connection to a stopped server. The short one (TTL 400 ms)
    /// times out at 40 ms and retires the connection until 400 ms; the long one (TTL 10 s) still
    /// waits on it then. Closing it fails the long round, whose clean-up reads the slot's retired
    /// connections: that must not happen while the loop is still removing them (an exclusivity
    /// violation, which aborts the process).
    @Test func aRoundFailedByTheCloseOfARetiredConnectionCleansUpAndTheClientGoesOn() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let server = cluster.servers[0]
        try await withClient(cluster, configure: { $0.tuning.retryAttempts = 1 }) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(10)))  // connected, identity read
            server.pause()
            async let short = expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .milliseconds(400)) }
            async let long = expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(10)) }
            _ = await short
            let longError = await long
            server.resume()
            #expect(longError.map { "\($0)".contains("connection retired") } == true,
                    "the long round was not failed by the retired connection's close: \(String(describing: longError))")
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(10)))
        }
    }
}
