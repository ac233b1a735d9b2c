import RedLock
import RedisServerKit

/// Freshly started servers and one client for them, alive from a benchmark's setup to its
/// teardown. package-benchmark runs setup, every iteration and teardown one after another, never
/// at once, so the rig needs no locking.
public final class ClientRig {
    private let servers: Int
    private let configure: (inout RedLockConfiguration) -> Void
    private var running: (cluster: RedisCluster, client: RedLockClient)?

    /// - Parameters:
    ///   - servers: how many `redis-server`s to start.
    ///   - configure: changes to the client's default configuration.
    public init(servers: Int, configure: @escaping (inout RedLockConfiguration) -> Void = { _ in }) {
        self.servers = servers
        self.configure = configure
    }

    /// Starts the servers and the client, then takes and releases `warmUpKey` once, so that every
    /// connection is up and every script cached before the measurement.
    public func start(warmUpKey: String, ttl: Duration) async throws {
        // Servers without persistence, as every library compared gets; they start fresh, so the
        // restart guard (which would withhold their votes for a TTL) is off.
        let cluster = try await RedisCluster.start(count: servers, persistent: false)
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.restartGuard = .disabled
        configure(&configuration)
        let client = try RedLockClient(configuration: configuration)
        running = (cluster, client)
        try await client.release(try await client.acquire(warmUpKey, ttl: ttl))
    }

    /// Shuts the client down and stops the servers by pid.
    public func stop() async {
        await running?.client.shutdown()
        running?.cluster.stopAll()
        running = nil
    }

    /// The client, or a loud failure when setup did not run.
    public var client: RedLockClient {
        get throws { try started.client }
    }

    /// The servers, or a loud failure when setup did not run.
    public var cluster: RedisCluster {
        get throws { try started.cluster }
    }

    private var started: (cluster: RedisCluster, client: RedLockClient) {
        get throws {
            guard let running else { throw HarnessError("benchmark rig used outside setUp/tearDown") }
            return running
        }
    }
}
