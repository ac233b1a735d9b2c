// What fencing costs: acquire+release at N = 1, 3, 5 with `fencing` off (the plain `SET … NX PX
// … GET`) and on (`.bestEffort`: one fenced script per master that also keeps the fence), in one
// run, each against its own freshly started local `redis-server`s. The target: the p50
// with fencing on within 1.05× of fencing off; both send one acquire command per master.
import Benchmark
import BenchmarkRig
import RedLock

private let key = "bench:fencing"
private let ttl = Duration.seconds(30)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 200,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    for count in [1, 3, 5] {
        for fencing in [Fencing.off, .bestEffort] {
            let rig = ClientRig(servers: count) { $0.fencing = fencing }
            Benchmark("acquire+release N=\(count) fencing \(fencing)") { _ in
                let client = try rig.client
                try await client.release(try await client.acquire(key, ttl: ttl))
            } setup: {
                try await rig.start(warmUpKey: key, ttl: ttl)
            } teardown: {
                await rig.stop()
            }
        }
    }
}
