import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// A lock's clean-up goes out only on the connection its SET went out on: never on another,
/// where a stopped server could run it before the SET and keep the key.
@Suite("Clean-ups stay on their SET's connection", needsRedis, .load(.timed))
struct PinnedConnectionTests {
    /// C is stopped when a lock is taken on A and B: its SET waits on a retired connection. More
    /// rounds time out on C, each on a new connection, so that one is evicted (closed) as the ninth
    /// retired one (14 rounds leave slack for a loaded machine that merges a few). The release
    /// must then not go to C on another connection.
    @Test func aReleaseIsNotSentOnAnotherConnectionWhenItsSETsWasClosed() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let c = cluster.servers[2]
        let timeout = Duration.milliseconds(50)
        try await withClient(cluster, configure: {
            $0.serverTimeout = timeout
            $0.minimumReconnectDelay = .milliseconds(1)
            $0.maximumReconnectDelay = .milliseconds(1)
        }) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(10)))  // connected
            let scriptCallsBefore = try await Self.scriptCalls(c)
            c.pause()
            let lock = try await client.acquire(uniqueResource(), ttl: .seconds(10))
            for _ in 0..<14 {
                try await Task.sleep(for: timeout + Duration.milliseconds(50).scaled)  // the last round's C timed out and was retired
                _ = try await client.acquire(uniqueResource(), ttl: .seconds(10))  // its C goes on a new connection
            }
            try await Task.sleep(for: timeout + Duration.milliseconds(30).scaled)
            try await client.release(lock)
            c.resume()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.scriptCalls(c) == scriptCallsBefore, "a release reached C on a connection other than its SET's")
        }
    }

    /// Calls of `EVALSHA` and `EVAL` on `server` so far (the release is a script).
    private static func scriptCalls(_ server: RedisServerProcess) async throws -> Int {
        guard case .string(let text) = try await server.command(["INFO", "commandstats"]) else { return -1 }
        return text.split(whereSeparator: \.isNewline).reduce(0) { total, line in
            guard line.hasPrefix("cmdstat_evalsha:") || line.hasPrefix("cmdstat_eval:"),
                  let calls = line.split(separator: ",").first?.split(separator: "=").last.flatMap({ Int($0) }) else { return total }
            return total + calls
        }
    }
}
