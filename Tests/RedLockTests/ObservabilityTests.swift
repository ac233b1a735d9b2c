import InMemoryLogging
import Logging
import MetricsTestKit
import RedLock
import RedisTestSupport
import Testing
import TestLoad

@Suite("Logging and metrics", needsRedis, .load(.timed))
struct ObservabilityTests {
    @Test func logsAtDebugOrBelowWithDottedMetadataAndNeverATokenOrPassword() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: "log-secret")
        let resource = uniqueResource()
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in handler })
        logger.logLevel = .trace
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.password = "log-secret"
        configuration.logger = logger
        let client = try RedLockClient(configuration: configuration)
        let lock = try await client.acquire(resource, ttl: .seconds(5))
        _ = try await client.extend(lock)
        try await client.release(lock)
        await client.shutdown()

        let entries = handler.entries
        #expect(entries.contains { $0.message.description == "redlock acquired" && $0.metadata["redlock.resource"] == "\(resource)" })
        #expect(entries.contains { $0.message.description == "redlock released" })
        #expect(entries.allSatisfy { $0.level <= .debug }, "the library logs at debug and trace only")
        #expect(entries.allSatisfy { $0.message.description == $0.message.description.lowercased() })
        #expect(entries.allSatisfy { $0.metadata.keys.allSatisfy { $0.hasPrefix("redlock.") } })
        let everything = entries.map { "\($0.message) \($0.metadata)" }.joined()
        #expect(!everything.contains(lock.token))
        #expect(!everything.contains("log-secret"))
    }

    @Test func perCallLoggerReceivesTheCallsEvents() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "call", factory: { _ in handler })
        logger.logLevel = .debug
        try await withClient(cluster) { client in
            let lock = try await client.acquire(uniqueResource(), ttl: .seconds(5), logger: logger)
            try await client.release(lock, logger: logger)
        }
        #expect(handler.entries.map(\.message.description) == ["redlock acquired", "redlock released"])
    }

    @Test func anEvenNumberOfServersIsWarnedAbout() async throws {
        let handler = InMemoryLogHandler()
        var configuration = try RedLockConfiguration(serverAddresses: ["127.0.0.1:1", "127.0.0.1:2"])
        configuration.logger = Logger(label: "test", factory: { _ in handler })
        let client = try RedLockClient(configuration: configuration)
        await client.shutdown()
        #expect(handler.entries.contains { $0.level == .warning && $0.message.description.contains("even number") })
    }

    @Test func metricsRecordAcquisitionsServerLatencyErrorsAndLostLocks() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let metrics = TestMetrics()
        try await withClient(cluster, configure: { $0.metricsFactory = metrics }) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(5))
            try await client.release(lock)
            let held = try await client.acquire(resource, ttl: .seconds(5))
            _ = try await client.tryAcquire(resource, ttl: .seconds(5))
            try await client.release(held)

            cluster.servers[0].stop()
            try await client.release(try await client.acquire(resource, ttl: .seconds(5)))

            try? await client.withLock(resource, ttl: .milliseconds(600)) { _ in
                for server in cluster.servers.dropFirst() { try await server.command(["DEL", resource]) }
                try await Task.sleep(for: .seconds(5))
            }
        }
        #expect(try metrics.expectTimer("redlock.acquire.duration", [("result", "acquired")]).values.count == 4)
        #expect(try metrics.expectTimer("redlock.acquire.duration", [("result", "held_elsewhere")]).values.count == 1)
        let latency = try metrics.expectTimer("redlock.server.latency", [("server", "redis://127.0.0.1:\(cluster.servers[1].port)")])
        #expect(latency.values.count >= 4)
        let errors = try metrics.expectCounter("redlock.server.errors", [("server", "redis://127.0.0.1:\(cluster.servers[0].port)")])
        #expect(errors.totalValue >= 1)
        #expect(try metrics.expectCounter("redlock.locks.lost").totalValue == 1)
    }
}
