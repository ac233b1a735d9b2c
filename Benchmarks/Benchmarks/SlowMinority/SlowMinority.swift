// What the caller sees at N = 5 when one server misbehaves, beside the healthy case in the same
// run: acquire+release, and acquire alone (the release still runs, outside the measurement).
//
// - stopped: the server is SIGSTOPped after the client connected. The kernel still accepts its
//   connections and bytes; nothing is answered.
// - delayed: a helper thread keeps the server inside `DEBUG SLEEP 0.05` on its own connection, one
//   after another. `DEBUG SLEEP` blocks the whole server, so each of the client's commands waits
//   for the sleep in progress to end (up to 50 ms) and is answered before the next one starts.
import Benchmark
import BenchmarkRig
import Foundation
import RedLock
import RedisServerKit
import Synchronization

private let key = "bench:slow-minority"
private let ttl = Duration.seconds(30)

/// How the fifth server misbehaves during the measurement.
private enum Fault: String {
    case none = "healthy"
    case stopped = "1 of 5 stopped"
    case delayed = "1 of 5 in DEBUG SLEEP 50 ms"
}

/// Keeps one server busy in `DEBUG SLEEP` from a thread of its own until stopped.
private final class ServerSleeper: Sendable {
    private let running = Mutex(true)
    private let finished = DispatchSemaphore(value: 0)

    init(port: Int, seconds: String) throws {
        let connection = try HiredisFloor(ports: [port])  // one blocking context, no timeout
        let sleeper = UncheckedBox(connection)
        Thread { [self] in
            defer { finished.signal() }
            while running.withLock({ $0 }) {
                do {
                    try sleeper.value.singleRoundTrip(["DEBUG", "SLEEP", seconds])
                } catch {
                    FileHandle.standardError.write(Data("slow minority: DEBUG SLEEP failed: \(error)\n".utf8))
                    return
                }
            }
        }.start()
    }

    /// Returns once the sleep in progress has ended and the thread has left.
    func stop() {
        running.withLock { $0 = false }
        finished.wait()
    }
}

/// Hands a non-`Sendable` value to exactly one other thread, which alone uses it from then on.
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Five servers, one client and the fault, alive from a benchmark's setup to its teardown.
private final class SlowRig {
    let fault: Fault
    private let rig = ClientRig(servers: 5)
    private var sleeper: ServerSleeper?

    init(fault: Fault) { self.fault = fault }

    func start() async throws {
        // One lock while all five are healthy: every connection is up and every script cached.
        try await rig.start(warmUpKey: key, ttl: ttl)
        let victim = try rig.cluster.servers[4]
        switch fault {
        case .none: break
        case .stopped: victim.pause()
        case .delayed: sleeper = try ServerSleeper(port: victim.port, seconds: "0.05")
        }
    }

    func stop() async {
        sleeper?.stop()
        sleeper = nil
        try? rig.cluster.servers[4].resume()
        await rig.stop()
    }

    var client: RedLockClient {
        get throws { try rig.client }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 20,
        maxDuration: .seconds(3),
        maxIterations: 5_000
    )

    for fault in [Fault.none, .stopped, .delayed] {
        let pair = SlowRig(fault: fault)
        Benchmark("acquire+release N=5, \(fault.rawValue)") { _ in
            let client = try pair.client
            let lock = try await client.acquire(key, ttl: ttl)
            try await client.release(lock)
        } setup: {
            try await pair.start()
        } teardown: {
            await pair.stop()
        }

        let single = SlowRig(fault: fault)
        Benchmark("acquire N=5, \(fault.rawValue)") { benchmark in
            let client = try single.client
            let lock = try await client.acquire(key, ttl: ttl)
            benchmark.stopMeasurement()
            try await client.release(lock)
        } setup: {
            try await single.start()
        } teardown: {
            await single.stop()
        }
    }

    // The control for `acquire N=5, 1 of 5 in DEBUG SLEEP 50 ms`, whose acquires each follow a
    // release that waited for the sleeping server: healthy servers, and the same ~50 ms of idle
    // before each acquire. An idle VM wakes slowly; this shows how much of that case is idling.
    let idle = SlowRig(fault: .none)
    Benchmark("acquire N=5, healthy, 50 ms idle before each") { benchmark in
        let client = try idle.client
        let lock = try await client.acquire(key, ttl: ttl)
        benchmark.stopMeasurement()
        try await client.release(lock)
        try await Task.sleep(for: .milliseconds(50))
    } setup: {
        try await idle.start()
    } teardown: {
        await idle.stop()
    }
}
