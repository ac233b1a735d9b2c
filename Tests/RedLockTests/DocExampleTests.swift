import RedLock
import RedisTestSupport
import Testing

/// The examples in the library's doc comments, verbatim but for the server addresses and the
/// stand-in work, so that they keep compiling.
@Suite("Doc comment examples", needsRedis)
struct DocExampleTests {
    func buildReport() async throws {}

    /// `RedLockError`'s example: branch on `code`.
    @Test func redLockErrorExampleCompilesAndSkipsAHeldLock() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        try await withRedLockClient(configuration: testConfiguration(cluster.urls)) { client in
            let holder = try await client.acquire("reports:nightly", ttl: .seconds(30))
            var skipped = false
            do {
                let lock = try await client.acquire("reports:nightly", ttl: .seconds(30))
                try await client.release(lock)
            } catch let error as RedLockError where error.code == .heldElsewhere {
                skipped = true
            }
            #expect(skipped)
            try await client.release(holder)
        }
    }

    /// `withRedLockClient`'s and `RedLockClient`'s examples.
    @Test func scopedClientExampleCompilesAndRuns() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        try await withRedLockClient(configuration: configuration) { client in
            try await client.withLock("reports:nightly", ttl: .seconds(30)) { _ in try await buildReport() }
        }
        let client = try RedLockClient(configuration: .init(serverAddresses: cluster.urls))
        try await client.withLock("reports:nightly", ttl: .seconds(30)) { lock in
            try await buildReport()
        }
        await client.shutdown()
        #expect(try await cluster.keys("*").isEmpty)
    }
}
