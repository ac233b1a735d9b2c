// The round-trip floor: what any Redlock built on hiredis and these servers cannot beat.
//
// Plain blocking hiredis (`HiredisFloor`: append the command on every context, flush them all, read
// every reply), no threads, no Swift concurrency, against `redis-server`s this suite starts on free
// loopback ports and stops by pid. The commands are the ones `RedLockClient` sends:
//   acquire  `SET key token NX PX 30000 GET` to every server,
//   release  `EVALSHA <sha1 of the token-checked delete> 1 key token` to every server (the
//            library's script also announces the release to waiters: `HiredisFloor.releaseScript`).
// `SET+EVALSHA rounds N=k` is the floor for one acquire+release at N = k (see the Latency suite).
import Benchmark
import RedisServerKit

private let key = "bench:floor"
private let token = "0123456789abcdef0123456789abcdef"

/// Servers and one blocking hiredis context per server, alive from a benchmark's setup to its
/// teardown. The framework runs setup, every iteration and teardown one after another.
private final class FloorRig {
    let servers: Int
    private(set) var cluster: RedisCluster?
    private(set) var hiredis: HiredisFloor?

    init(servers: Int) { self.servers = servers }

    func start() async throws {
        let cluster = try await RedisCluster.start(count: servers, persistent: false)
        self.cluster = cluster
        hiredis = try HiredisFloor(ports: cluster.servers.map(\.port))
        for server in cluster.servers {
            guard case .string(let sha) = try await server.command(["SCRIPT", "LOAD", HiredisFloor.releaseScript]) else {
                throw HarnessError("SCRIPT LOAD did not return a SHA-1")
            }
            guard sha == HiredisFloor.releaseScriptSHA1 else { throw HarnessError("SCRIPT LOAD returned \(sha), not the script's SHA-1") }
        }
        // The commands do what the floor claims: the SET takes the free key, the script deletes it.
        let first = cluster.servers[0]
        let set = try await first.command(["SET", key, token, "NX", "PX", "30000", "GET"])
        let released = try await first.command(["EVALSHA", HiredisFloor.releaseScriptSHA1, "1", key, token])
        guard set == .null, released == .integer(1) else {
            throw HarnessError("floor commands misbehave: SET replied \(set), EVALSHA replied \(released)")
        }
    }

    func stop() {
        hiredis = nil  // closes the contexts before the servers go
        cluster?.stopAll()
        cluster = nil
    }

    /// The rig, or a loud failure when setup did not run.
    var floor: HiredisFloor {
        get throws {
            guard let hiredis else { throw HarnessError("floor rig used outside setUp/tearDown") }
            return hiredis
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 500,
        maxDuration: .seconds(2),
        maxIterations: 20_000
    )

    /// One benchmark with its own `servers` freshly started servers.
    func floorBenchmark(_ name: String, servers: Int, _ body: @escaping (HiredisFloor, FloorRig) throws -> Void) {
        let rig = FloorRig(servers: servers)
        Benchmark(name) { _ in
            try body(try rig.floor, rig)
        } setup: {
            try await rig.start()
        } teardown: {
            rig.stop()
        }
    }

    floorBenchmark("SET round trip, 1 server", servers: 1) { floor, _ in
        try floor.singleRoundTrip(["SET", key, token, "PX", "30000"])
    }

    for count in [1, 3, 5, 7] {
        floorBenchmark("SET round N=\(count)", servers: count) { floor, _ in
            try floor.parallelRound(["SET", key, token, "PX", "30000"])
        }
        // The key is absent, so the script takes its token-check miss path (GET, return 0);
        // the hit path (GET, DEL) is in the combined floor below.
        floorBenchmark("EVALSHA round N=\(count)", servers: count) { floor, rig in
            try floor.parallelRound(["EVALSHA", HiredisFloor.releaseScriptSHA1, "1", key, token])
        }
        floorBenchmark("SET+EVALSHA rounds N=\(count)", servers: count) { floor, rig in
            try floor.parallelRound(["SET", key, token, "NX", "PX", "30000", "GET"])
            try floor.parallelRound(["EVALSHA", HiredisFloor.releaseScriptSHA1, "1", key, token])
        }
    }
}
