import RedLock
import RedisTestSupport
import Testing

@Suite("withRedLockClient: the client is shut down however the body ends", needsRedis)
struct WithRedLockClientTests {
    struct BodyFailed: Error {}

    @Test func clientIsShutDownAfterTheBodyReturns() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let client = try await withRedLockClient(configuration: testConfiguration(cluster.urls)) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
            return client
        }
        await expectRedLockError(.clientShutDown) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }
    }

    @Test func clientIsShutDownWhenTheBodyThrows() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        nonisolated(unsafe) var escaped: RedLockClient?
        await #expect(throws: BodyFailed.self) {
            try await withRedLockClient(configuration: testConfiguration(cluster.urls)) { client in
                escaped = client
                throw BodyFailed()
            }
        }
        let client = try #require(escaped)
        await expectRedLockError(.clientShutDown) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }
    }

    @Test func clientIsShutDownWhenTheTaskIsCancelled() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let configuration = try testConfiguration(cluster.urls)
        let (clients, continuation) = AsyncStream.makeStream(of: RedLockClient.self)
        let task = Task {
            try await withRedLockClient(configuration: configuration) { client in
                continuation.yield(client)
                try await Task.sleep(for: .seconds(60))
            }
        }
        var iterator = clients.makeAsyncIterator()
        let client = try #require(await iterator.next())
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        await expectRedLockError(.clientShutDown) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }
    }

    @Test func invalidConfigurationThrowsBeforeTheBodyRuns() async throws {
        await expectRedLockError(.invalidConfiguration) {
            try await withRedLockClient(configuration: RedLockConfiguration(servers: [])) { _ in
                Issue.record("the body must not run")
            }
        }
    }
}
