import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// The README's library example, verbatim but for the server addresses and the stand-in work.
@Suite("README example", needsRedis, .load(.timed))
struct ReadmeExampleTests {
    @Test func readmeExampleRunsAsWritten() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        func buildNightlyReport(holderToken: String) async throws -> String { "report \(holderToken.count)" }
        func rebuildCache() async throws {}

        let client = try RedLockClient(configuration: .init(serverAddresses: cluster.urls))

        let report = try await client.withLock("reports:nightly", ttl: .seconds(30)) { held in
            try await buildNightlyReport(holderToken: held.token)
        }

        if let lock = try await client.tryAcquire("cache:rebuild", ttl: .seconds(10)) {
            try await rebuildCache()
            try await client.release(lock)
        }

        let lock = try await client.acquire("queue:drain", ttl: .seconds(10), wait: .upTo(.seconds(5)))
        let renewed = try await client.extend(lock)
        try await client.release(renewed)

        await client.shutdown()
        #expect(report == "report 32")
        #expect(try await cluster.keys("*").isEmpty)
    }
}
