// RedLockRunner: RedLock's side of the one-run comparison (Benchmarks/compare/compare.py), and the
// hiredis floor it is judged against. Runs one measurement against servers someone else started and
// prints one JSON object on stdout; asserts nothing.
//
//   RedLockRunner --servers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 --mode latency --iterations 2000 --key k
//   RedLockRunner --servers ... --mode contention --contenders 8 --duration 5 --key k
//   RedLockRunner --servers ... --mode floor --iterations 2000 --key k
//
// latency:    acquire+release, one after the other, `--iterations` times after `--warmup` untimed ones.
// contention: `--contenders` tasks in this process loop on one key with `wait: .upTo(time left)` for
//             `--duration` seconds; a Mutex-guarded holder count records overlaps (must be 0).
// floor:      what no lock on these servers can beat (HiredisFloor: plain blocking hiredis contexts):
//             one parallel round of `SET key token NX PX ttl GET` (the library's acquire command) to
//             every server, then one parallel round of the token-checked delete script (EVALSHA, the
//             library's release); plus one SET round trip to one server.
import Foundation
import RedLock
import RedisTestSupport
import Synchronization

struct Options {
    var servers: [String] = []
    var mode = "latency"
    var iterations = 2000
    var warmup = 200
    var key = "redlock-runner"
    var ttl: Duration = .seconds(10)
    var contenders = 8
    var duration: Duration = .seconds(5)
    var hold: Duration = .zero
    var emitSamples = false

    static let usage = """
        usage: RedLockRunner --servers host:port[,host:port...] [--mode latency|contention|floor]
                             [--iterations N] [--warmup N] [--key K] [--ttl-ms MS]
                             [--contenders K] [--duration SECONDS] [--hold-us US] [--samples]
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ name: String) throws -> String {
            guard let next = rest.popFirst() else { throw UsageError("\(name) needs a value") }
            return next
        }
        func number<T: LosslessStringConvertible>(_ name: String, _: T.Type) throws -> T {
            let text = try value(name)
            guard let parsed = T(text) else { throw UsageError("\(name): not a number: \(text)") }
            return parsed
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--servers": options.servers = try value(argument).split(separator: ",").map(String.init)
            case "--mode": options.mode = try value(argument)
            case "--iterations": options.iterations = try number(argument, Int.self)
            case "--warmup": options.warmup = try number(argument, Int.self)
            case "--key": options.key = try value(argument)
            case "--ttl-ms": options.ttl = .milliseconds(try number(argument, Int.self))
            case "--contenders": options.contenders = try number(argument, Int.self)
            case "--duration": options.duration = .milliseconds(Int(try number(argument, Double.self) * 1000))
            case "--hold-us": options.hold = .nanoseconds(Int(try number(argument, Double.self) * 1000))
            case "--samples": options.emitSamples = true
            case "-h", "--help": print(usage); exit(0)
            default: throw UsageError("unknown argument \(argument)")
            }
        }
        guard !options.servers.isEmpty else { throw UsageError("--servers is required") }
        guard ["latency", "contention", "floor"].contains(options.mode) else { throw UsageError("unknown mode \(options.mode)") }
        guard options.iterations > 0, options.warmup >= 0, options.contenders > 0 else { throw UsageError("counts must be positive") }
        return options
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Durations in microseconds, with the same nearest-rank percentile compare.py uses.
struct Summary: Encodable {
    let p50_us: Double
    let p99_us: Double
    let mean_us: Double
    let min_us: Double
    let max_us: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func rank(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            return sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
        }
        p50_us = rank(0.50)
        p99_us = rank(0.99)
        mean_us = sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count)
        min_us = sorted.first ?? .nan
        max_us = sorted.last ?? .nan
    }
}

extension Duration {
    var microseconds: Double {
        Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12
    }
}

struct LatencyResult: Encodable {
    let impl: String
    let mode: String
    let servers: Int
    let iterations: Int
    let warmup: Int
    let summary: Summary
    let loop_seconds: Double
    let throughput_per_s: Double
    let failures: Int
    let errors: [String: Int]
    let single_set: Summary?
    let samples_us: [Double]?
}

struct ContentionResult: Encodable {
    let impl: String
    let mode: String
    let servers: Int
    let contenders: Int
    let duration_s: Double
    let hold_us: Double
    let acquisitions: Int
    let acquisitions_per_s: Double
    let per_contender: [Int]
    let min_per_contender: Int
    let max_per_contender: Int
    let overlaps: Int
    let wait_timeouts: Int
    let failures: Int
    let errors: [String: Int]
    let handover: Summary
    let handover_samples: Int
}

func emit(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

let clock = ContinuousClock()

// MARK: latency

func runLatency(_ options: Options) async throws -> LatencyResult {
    let client = try RedLockClient(configuration: .init(serverAddresses: options.servers))
    var errors: [String: Int] = [:]
    var samples: [Double] = []
    samples.reserveCapacity(options.iterations)
    func once(record: Bool) async {
        let start = clock.now
        do throws(RedLockError) {
            let lock = try await client.acquire(options.key, ttl: options.ttl)
            try await client.release(lock)
            if record { samples.append((clock.now - start).microseconds) }
        } catch {
            if record { errors["\(error.code)", default: 0] += 1 }
        }
    }
    for _ in 0..<options.warmup { await once(record: false) }
    let loopStart = clock.now
    for _ in 0..<options.iterations { await once(record: true) }
    let loop = (clock.now - loopStart).microseconds / 1e6
    await client.shutdown()
    let failures = errors.values.reduce(0, +)
    return LatencyResult(impl: "redlock-swift", mode: "latency", servers: options.servers.count, iterations: options.iterations,
                         warmup: options.warmup, summary: Summary(samples), loop_seconds: loop,
                         throughput_per_s: Double(samples.count) / loop, failures: failures, errors: errors,
                         single_set: nil, samples_us: options.emitSamples ? samples : nil)
}

// MARK: floor

let releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
let releaseScriptSHA1 = "e9f69f2beb755be68b5e456ee2ce9aadfbc4ebf4"

func runFloor(_ options: Options) throws -> LatencyResult {
    let ports = try options.servers.map { server -> Int in
        let parts = server.split(separator: ":")
        guard parts.count == 2, ["127.0.0.1", "localhost"].contains(parts[0]), let port = Int(parts[1]) else {
            throw UsageError("floor mode takes 127.0.0.1:PORT servers only, not \(server)")
        }
        return port
    }
    let floor = try HiredisFloor(ports: ports)
    try floor.parallelRound(["SCRIPT", "LOAD", releaseScript])
    let ttl = String(Int(options.ttl.microseconds / 1000))
    var rounds: [Double] = [], single: [Double] = []
    rounds.reserveCapacity(options.iterations)
    single.reserveCapacity(options.iterations)
    // Alternate blocks of the two-round floor and of single SETs, so noise hits both alike.
    let block = 100
    var done = 0, warm = 0, loop: Duration = .zero
    while done < options.iterations {
        let count = min(block, options.iterations - done)
        let record = warm >= options.warmup
        let blockStart = clock.now
        for index in 0..<count {
            let token = "t\(done)-\(index)"
            let start = clock.now
            try floor.parallelRound(["SET", options.key, token, "NX", "PX", ttl, "GET"])
            try floor.parallelRound(["EVALSHA", releaseScriptSHA1, "1", options.key, token])
            if record { rounds.append((clock.now - start).microseconds) }
        }
        if record { loop += clock.now - blockStart }
        for _ in 0..<count {
            let start = clock.now
            try floor.singleRoundTrip(["SET", options.key + ":single", "v"])
            if record { single.append((clock.now - start).microseconds) }
        }
        if record { done += count } else { warm += count }
    }
    try floor.parallelRound(["DEL", options.key + ":single"])
    let seconds = loop.microseconds / 1e6
    return LatencyResult(impl: "floor", mode: "floor", servers: ports.count, iterations: options.iterations, warmup: options.warmup,
                         summary: Summary(rounds), loop_seconds: seconds, throughput_per_s: Double(rounds.count) / seconds,
                         failures: 0, errors: [:], single_set: Summary(single), samples_us: options.emitSamples ? rounds : nil)
}

// MARK: contention

struct Shared {
    var holders = 0
    var overlaps = 0
    /// When the last holder started to release; the next holder's acquisition closes the hand-over.
    var releaseStarted: ContinuousClock.Instant?
    var handovers: [Double] = []
}

/// A class so the contender tasks can share one `Mutex` (which cannot be copied into them).
final class Critical: Sendable {
    let state = Mutex(Shared())
}

struct ContenderTally: Sendable {
    var acquired = 0
    var waitTimeouts = 0
    var errors: [String: Int] = [:]
}

func runContention(_ options: Options) async throws -> ContentionResult {
    let client = try RedLockClient(configuration: .init(serverAddresses: options.servers))
    // Connections up and scripts cached before the clock starts.
    for _ in 0..<20 { try await client.release(try await client.acquire(options.key, ttl: options.ttl)) }
    let shared = Critical()
    let start = clock.now
    let deadline = start + options.duration
    let key = options.key, ttl = options.ttl, hold = options.hold
    let tallies = await withTaskGroup(of: ContenderTally.self) { group in
        for _ in 0..<options.contenders {
            group.addTask {
                var tally = ContenderTally()
                while true {
                    let left = deadline - clock.now
                    guard left > .zero else { break }
                    let lock: Lock
                    do throws(RedLockError) {
                        lock = try await client.acquire(key, ttl: ttl, wait: .upTo(left))
                    } catch where error.code == .heldElsewhere {
                        tally.waitTimeouts += 1
                        continue
                    } catch {
                        tally.errors["acquire: \(error.code)", default: 0] += 1
                        try? await Task.sleep(for: .milliseconds(10))
                        continue
                    }
                    let acquiredAt = clock.now
                    shared.state.withLock { state in
                        state.holders += 1
                        if state.holders > 1 { state.overlaps += 1 }
                        if let released = state.releaseStarted {
                            state.handovers.append((acquiredAt - released).microseconds)
                            state.releaseStarted = nil
                        }
                    }
                    if hold > .zero { try? await Task.sleep(for: hold) } else { await Task.yield() }
                    shared.state.withLock { state in
                        state.holders -= 1
                        state.releaseStarted = clock.now
                    }
                    do throws(RedLockError) {
                        try await client.release(lock)
                    } catch {
                        tally.errors["release: \(error.code)", default: 0] += 1
                    }
                    tally.acquired += 1
                }
                return tally
            }
        }
        var all: [ContenderTally] = []
        for await tally in group { all.append(tally) }
        return all
    }
    let elapsed = (clock.now - start).microseconds / 1e6
    await client.shutdown()
    let state = shared.state.withLock { $0 }
    let perContender = tallies.map(\.acquired)
    let total = perContender.reduce(0, +)
    var errors: [String: Int] = [:]
    for tally in tallies { errors.merge(tally.errors, uniquingKeysWith: +) }
    return ContentionResult(impl: "redlock-swift", mode: "contention", servers: options.servers.count, contenders: options.contenders,
                            duration_s: elapsed, hold_us: hold.microseconds, acquisitions: total,
                            acquisitions_per_s: Double(total) / elapsed, per_contender: perContender.sorted(),
                            min_per_contender: perContender.min() ?? 0, max_per_contender: perContender.max() ?? 0,
                            overlaps: state.overlaps, wait_timeouts: tallies.map(\.waitTimeouts).reduce(0, +),
                            failures: errors.values.reduce(0, +), errors: errors,
                            handover: Summary(state.handovers), handover_samples: state.handovers.count)
}

// MARK: main

do {
    let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    switch options.mode {
    case "latency": try emit(try await runLatency(options))
    case "floor": try emit(try runFloor(options))
    default: try emit(try await runContention(options))
    }
} catch let error as UsageError {
    FileHandle.standardError.write(Data("RedLockRunner: \(error)\n\(Options.usage)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("RedLockRunner: \(error)\n".utf8))
    exit(1)
}
