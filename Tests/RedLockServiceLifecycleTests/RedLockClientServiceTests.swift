import Logging
import RedLock
import RedLockServiceLifecycle
import RedisTestSupport
import ServiceLifecycle
import Testing

@Suite("RedLockClient as a swift-service-lifecycle Service",
       .enabled(if: RedisServerProcess.shouldRunIntegrationTests, "redis-server is not installed; set REDLOCK_REQUIRE_REDIS=1 to fail instead of skip"))
struct RedLockClientServiceTests {
    @Test func clientServesLocksUntilTheGroupShutsDownGracefullyThenIsShutDown() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let client = try RedLockClient(configuration: RedLockConfiguration(serverAddresses: cluster.urls))
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let group = ServiceGroup(services: [client], logger: logger)
        let running = Task { try await group.run() }

        let lock = try await client.acquire("test:service:\(#function)", ttl: .seconds(5))
        try await client.release(lock)

        await group.triggerGracefulShutdown()
        try await running.value
        do {
            _ = try await client.acquire("test:service:\(#function):after", ttl: .seconds(5))
            Issue.record("the client must be shut down with its group")
        } catch {
            #expect(error.code == .clientShutDown)
        }
    }

    @Test func cancellingTheGroupShutsTheClientDown() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let client = try RedLockClient(configuration: RedLockConfiguration(serverAddresses: cluster.urls))
        let group = ServiceGroup(services: [client], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }
        _ = try await client.acquire("test:service:\(#function)", ttl: .seconds(5))
        running.cancel()
        try? await running.value
        do {
            _ = try await client.acquire("test:service:\(#function):after", ttl: .seconds(5))
            Issue.record("a cancelled group's client must be shut down")
        } catch {
            #expect(error.code == .clientShutDown)
        }
    }
}
