// A quick side-by-side latency check: RedLock's acquire+release against the hiredis floor, all
// against the same freshly started local servers in one run, in interleaved blocks so that noise
// from other processes hits every series alike. Prints p50/p99 and ratios; asserts nothing.
//
//   swift run -c release --package-path Benchmarks LatencyProbe [iterations]
import Foundation
import RedLock
import RedisServerKit

let iterations = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 5000
let blocks = 10

struct Series {
    var samples: [Duration] = []
    func percentile(_ p: Double) -> Duration {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}

func micros(_ duration: Duration) -> String {
    String(format: "%8.1f µs", Double(duration.components.attoseconds) / 1e12 + Double(duration.components.seconds) * 1e6)
}

func measure(count: Int, _ body: () async throws -> Void) async throws -> [Duration] {
    let clock = ContinuousClock()
    var samples: [Duration] = []
    for _ in 0..<count {
        let start = clock.now
        try await body()
        samples.append(clock.now - start)
    }
    return samples
}

/// One server count, end to end. Not top-level code: closures formed there would belong to the
/// main actor, and every call would hop to it and back.
func probe(count: Int) async throws {
    // Fresh servers without persistence: the restart guard would withhold their votes for a TTL.
    let cluster = try await RedisCluster.start(count: count, persistent: false)
    let ports = cluster.servers.map(\.port)
    let floor = try HiredisFloor(ports: ports)
    var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
    configuration.restartGuard = .disabled
    let client = try RedLockClient(configuration: configuration)
    try floor.loadReleaseScript()

    var single = Series(), floorRounds = Series(), ours = Series(), oursOnIOThread = Series()
    let perBlock = iterations / blocks
    for block in 0..<(blocks + 1) {
        let keep = block > 0  // the first block warms up connections, caches and the CPU
        let singleSamples = try await measure(count: perBlock) {
            try floor.singleRoundTrip(["SET", "probe:single", "v"])
        }
        let floorSamples = try await measure(count: perBlock) {
            try floor.parallelRound(["SET", "probe:floor", "token", "NX", "PX", "30000"])
            try floor.parallelRound(["EVALSHA", HiredisFloor.releaseScriptSHA1, "1", "probe:floor", "token"])
        }
        let ourSamples = try await measure(count: perBlock) {
            let lock = try await client.acquire("probe:lock", ttl: .seconds(30))
            try await client.release(lock)
        }
        let onIOThreadSamples = try await withTaskExecutorPreference(client.ioExecutor) {
            try await measure(count: perBlock) {
                let lock = try await client.acquire("probe:lock", ttl: .seconds(30))
                try await client.release(lock)
            }
        }
        if keep {
            single.samples += singleSamples
            floorRounds.samples += floorSamples
            ours.samples += ourSamples
            oursOnIOThread.samples += onIOThreadSamples
        }
    }
    await client.shutdown()
    cluster.stopAll()
    let floorP50 = floorRounds.percentile(0.5)
    print("N=\(count)  samples=\(ours.samples.count) each")
    print("  raw hiredis SET round trip (1 server) p50 \(micros(single.percentile(0.5)))  p99 \(micros(single.percentile(0.99)))")
    print("  floor: SET round + EVALSHA round      p50 \(micros(floorP50))  p99 \(micros(floorRounds.percentile(0.99)))")
    print("  RedLock acquire+release               p50 \(micros(ours.percentile(0.5)))  p99 \(micros(ours.percentile(0.99)))")
    print("  RedLock on its I/O thread executor    p50 \(micros(oursOnIOThread.percentile(0.5)))  p99 \(micros(oursOnIOThread.percentile(0.99)))")
    print(String(format: "  ratio ours/floor %.2f   on I/O thread/floor %.2f   ours/single SET %.2f",
                 ours.percentile(0.5) / floorP50, oursOnIOThread.percentile(0.5) / floorP50, ours.percentile(0.5) / single.percentile(0.5)))
}

for count in [1, 3, 5] {
    try await probe(count: count)
}
