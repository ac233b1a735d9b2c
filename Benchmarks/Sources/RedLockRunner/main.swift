// RedLockRunner: RedLock's side of the one-run comparison (Benchmarks/compare/compare.py), and the
// hiredis floor it is judged against. Runs one measurement against servers someone else started and
// prints one JSON object on stdout; asserts nothing.
//
//   RedLockRunner --servers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 --mode latency --iterations 2000 --key k
//   RedLockRunner --servers ... --mode latency --fencing best-effort --key k
//   RedLockRunner --servers ... --mode contention --contenders 8 --duration 5 --key k --notify off
//   RedLockRunner --servers ... --mode contention --contenders 1 --start-from-stdin --key k
//   RedLockRunner --servers ... --mode floor --iterations 2000 --key k
//   RedLockRunner --servers rediss://127.0.0.1:7001,... --tls-ca-file ca.pem --mode latency --key k
//   RedLockRunner --servers ... --mode fresh --iterations 300 --key k
//
// latency:    acquire+release, one after the other, `--iterations` times after `--warmup` untimed ones;
//             with `--io-executor`, the loop runs under `withTaskExecutorPreference(client.ioExecutor)`.
//             `--fencing off|best-effort|required` sets `RedLockConfiguration.fencing` (default: the
//             library's), in every mode but floor.
// contention: `--contenders` tasks in this process loop on one key with `wait: .upTo(time left)` for
//             `--duration` seconds, each recording its holds as CLOCK_MONOTONIC intervals; compare.py
//             merges them (across processes too: `--contenders 1 --start-from-stdin` is one of several
//             contender processes) and counts overlaps, which must be 0, and hand-overs.
//             `--notify on|off` sets `RedLockConfiguration.notifiesWaitersOnRelease` (default: the
//             library's).
// floor:      what no lock on these servers can beat (HiredisFloor: plain blocking hiredis contexts):
//             one parallel round of `SET key token NX PX ttl GET` (the library's acquire command) to
//             every server, then one parallel round of the token-checked delete script (EVALSHA; the
//             library's release script also announces the release); plus one SET round trip.
//             With rediss:// servers, TLSFloor: the same over blocking OpenSSL sessions.
// fresh:      what one cronlock run pays for its connections: each iteration makes a new client and
//             times from there to its first acquire's return (connect, TLS handshake when rediss://,
//             the connection's set-up, the acquire round); the release and shutdown are not timed.
// fresh-floor: the floor of that: new floor connections (TLS: handshakes in parallel), then the
//             SET round, timed; the release round and closing are not.
// --tls-ca-file: the CA that rediss:// servers' certificates must chain to (RedLockConfiguration.tls.caFile).
import Foundation
import RedLock
import RedisServerKit

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
    /// `nil`: the library's default.
    var notifiesWaitersOnRelease: Bool?
    var startFromStdin = false
    var onIOExecutor = false
    /// `nil`: the library's default.
    var fencing: Fencing?
    var tlsCAFile: String?

    static let usage = """
        usage: RedLockRunner --servers host:port[,host:port...] [--mode latency|contention|floor]
                             [--iterations N] [--warmup N] [--key K] [--ttl-ms MS]
                             [--contenders K] [--duration SECONDS] [--hold-us US] [--samples]
                             [--notify on|off] [--start-from-stdin] [--io-executor]
                             [--fencing off|best-effort|required]
                             [--mode fresh|fresh-floor] [--tls-ca-file PATH]
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
        func onOff(_ name: String) throws -> Bool {
            switch try value(name) {
            case "on": return true
            case "off": return false
            case let other: throw UsageError("\(name) takes on or off, not \(other)")
            }
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
            case "--notify": options.notifiesWaitersOnRelease = try onOff(argument)
            case "--start-from-stdin": options.startFromStdin = true
            case "--io-executor": options.onIOExecutor = true
            case "--fencing":
                switch try value(argument) {
                case "off": options.fencing = .off
                case "best-effort": options.fencing = .bestEffort
                case "required": options.fencing = .required
                case let other: throw UsageError("--fencing takes off, best-effort or required, not \(other)")
                }
            case "--tls-ca-file": options.tlsCAFile = try value(argument)
            case "-h", "--help": print(usage); exit(0)
            default: throw UsageError("unknown argument \(argument)")
            }
        }
        guard !options.servers.isEmpty else { throw UsageError("--servers is required") }
        guard ["latency", "contention", "floor", "fresh", "fresh-floor"].contains(options.mode) else { throw UsageError("unknown mode \(options.mode)") }
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

/// One contender's holds as [acquired, release started] CLOCK_MONOTONIC nanoseconds, and its misses.
struct ContenderRecord: Encodable, Sendable {
    var holds_ns: [[Int64]] = []
    var wait_timeouts = 0
    var errors: [String: Int] = [:]
}

struct ContentionResult: Encodable {
    let impl: String
    let mode: String
    let servers: Int
    let notify: Bool
    let start_ns: Int64
    let duration_s: Double
    let hold_us: Double
    let contenders: [ContenderRecord]
}

func emit(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

let clock = ContinuousClock()

// MARK: latency

func makeClient(_ options: Options) throws -> RedLockClient {
    var configuration = try RedLockConfiguration(serverAddresses: options.servers)
    // compare.py starts fresh servers without persistence: the restart guard would withhold
    // their votes for a TTL.
    configuration.restartGuard = .disabled
    configuration.tls.caFile = options.tlsCAFile
    if let notify = options.notifiesWaitersOnRelease { configuration.notifiesWaitersOnRelease = notify }
    if let fencing = options.fencing { configuration.fencing = fencing }
    return try RedLockClient(configuration: configuration)
}

func runLatency(_ options: Options) async throws -> LatencyResult {
    let client = try makeClient(options)
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
    func measure() async -> Double {
        for _ in 0..<options.warmup { await once(record: false) }
        let loopStart = clock.now
        for _ in 0..<options.iterations { await once(record: true) }
        return (clock.now - loopStart).microseconds / 1e6
    }
    let loop = options.onIOExecutor ? await withTaskExecutorPreference(client.ioExecutor) { await measure() } : await measure()
    await client.shutdown()
    let failures = errors.values.reduce(0, +)
    return LatencyResult(impl: "redlock-swift", mode: "latency", servers: options.servers.count, iterations: options.iterations,
                         warmup: options.warmup, summary: Summary(samples), loop_seconds: loop,
                         throughput_per_s: Double(samples.count) / loop, failures: failures, errors: errors,
                         single_set: nil, samples_us: options.emitSamples ? samples : nil)
}

// MARK: floor

/// The floor's servers: `127.0.0.1:PORT` (plain) or `rediss://127.0.0.1:PORT` (TLS, needs `--tls-ca-file`).
struct FloorServers {
    var ports: [Int] = []
    var caFile: String?

    init(_ options: Options) throws {
        let tls = options.servers.allSatisfy { $0.hasPrefix("rediss://") }
        guard tls || !options.servers.contains(where: { $0.contains("://") }) else {
            throw UsageError("floor modes take all 127.0.0.1:PORT or all rediss://127.0.0.1:PORT servers")
        }
        if tls {
            guard let caFile = options.tlsCAFile else { throw UsageError("a TLS floor needs --tls-ca-file") }
            self.caFile = caFile
        }
        ports = try options.servers.map { server -> Int in
            let parts = server.replacingOccurrences(of: "rediss://", with: "").split(separator: ":")
            guard parts.count == 2, ["127.0.0.1", "localhost"].contains(parts[0]), let port = Int(parts[1]) else {
                throw UsageError("floor modes take 127.0.0.1:PORT servers only, not \(server)")
            }
            return port
        }
    }

    /// Fresh connections to every server (TLS: handshakes done).
    func connect() throws -> FloorConnections {
        if let caFile { return try TLSFloor(ports: ports, caFile: caFile) }
        return try HiredisFloor(ports: ports)
    }
}

func runFloor(_ options: Options) throws -> LatencyResult {
    let servers = try FloorServers(options)
    let floor = try servers.connect()
    try floor.loadReleaseScript()
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
            try floor.parallelRound(["EVALSHA", HiredisFloor.releaseScriptSHA1, "1", options.key, token])
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
    return LatencyResult(impl: "floor", mode: "floor", servers: servers.ports.count, iterations: options.iterations, warmup: options.warmup,
                         summary: Summary(rounds), loop_seconds: seconds, throughput_per_s: Double(rounds.count) / seconds,
                         failures: 0, errors: [:], single_set: Summary(single), samples_us: options.emitSamples ? rounds : nil)
}

// MARK: fresh connections

/// `--warmup` untimed then `--iterations` timed runs of `once`, which returns the span it timed;
/// a run that throws is counted under its error.
func measureFresh(_ options: Options, impl: String, _ once: (Int) async throws -> Duration) async -> LatencyResult {
    var samples: [Double] = [], errors: [String: Int] = [:]
    var loop: Duration = .zero
    for index in 0..<(options.warmup + options.iterations) {
        let record = index >= options.warmup
        let start = clock.now
        do {
            let span = try await once(index)
            if record { samples.append(span.microseconds) }
        } catch {
            if record { errors["\(error)", default: 0] += 1 }
        }
        if record { loop += clock.now - start }
    }
    let seconds = loop.microseconds / 1e6
    return LatencyResult(impl: impl, mode: options.mode, servers: options.servers.count, iterations: options.iterations, warmup: options.warmup,
                         summary: Summary(samples), loop_seconds: seconds, throughput_per_s: Double(samples.count) / seconds,
                         failures: errors.values.reduce(0, +), errors: errors, single_set: nil,
                         samples_us: options.emitSamples ? samples : nil)
}

/// A new client per iteration: its creation to its first acquire's return.
func runFresh(_ options: Options) async throws -> LatencyResult {
    await measureFresh(options, impl: "redlock-swift") { _ in
        let start = clock.now
        let client = try makeClient(options)
        do {
            let lock = try await client.acquire(options.key, ttl: options.ttl)
            let span = clock.now - start
            try await client.release(lock)
            await client.shutdown()
            return span
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

/// New floor connections per iteration: connecting (and handshaking) to the SET round's last reply.
func runFreshFloor(_ options: Options) async throws -> LatencyResult {
    let servers = try FloorServers(options)
    try servers.connect().loadReleaseScript()
    let ttl = String(Int(options.ttl.microseconds / 1000))
    return await measureFresh(options, impl: "floor") { index in
        let token = "t\(index)"
        let start = clock.now
        let floor = try servers.connect()
        try floor.parallelRound(["SET", options.key, token, "NX", "PX", ttl, "GET"])
        let span = clock.now - start
        try floor.parallelRound(["EVALSHA", HiredisFloor.releaseScriptSHA1, "1", options.key, token])
        return span
    }
}

// MARK: contention

/// Connections up, scripts cached and, with notifications on, the release subscription open before
/// the clock starts: some acquire+release rounds, then one wait that a release ends. On a key of
/// this process's own, so the warm-ups of separate contender processes do not contend.
func warmUp(_ client: RedLockClient, _ options: Options) async throws {
    let key = "\(options.key):warmup:\(getpid())"
    for _ in 0..<20 { try await client.release(try await client.acquire(key, ttl: options.ttl)) }
    let held = try await client.acquire(key, ttl: options.ttl)
    async let waiter = client.acquire(key, ttl: options.ttl, wait: .upTo(.seconds(5)))
    try await Task.sleep(for: .milliseconds(20))  // long enough for the waiter's first round to fail
    try await client.release(held)
    try await client.release(try await waiter)
}

/// Now, or the CLOCK_MONOTONIC instant (ns) compare.py sends every contender process once all have
/// said `ready`, so that no process's start-up is measured.
func startInstant(_ options: Options) throws -> Int64 {
    guard options.startFromStdin else { return MonotonicTime.now() }
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    guard let line = readLine(), let instant = Int64(line) else {
        throw UsageError("--start-from-stdin: expected a CLOCK_MONOTONIC instant in ns on stdin")
    }
    return instant
}

/// One contender: until `deadline`, waits for the lock with the waiting API, holds it for
/// `options.hold` (zero: a yield) and releases it, recording each hold.
func contend(_ client: RedLockClient, _ options: Options, until deadline: Int64) async -> ContenderRecord {
    var record = ContenderRecord()
    while true {
        let left = deadline - MonotonicTime.now()
        guard left > 0 else { break }
        let lock: Lock
        do throws(RedLockError) {
            lock = try await client.acquire(options.key, ttl: options.ttl, wait: .upTo(.nanoseconds(left)))
        } catch where error.code == .heldElsewhere {
            record.wait_timeouts += 1
            continue
        } catch {
            record.errors["acquire: \(error.code)", default: 0] += 1
            try? await Task.sleep(for: .milliseconds(10))
            continue
        }
        let acquired = MonotonicTime.now()
        if options.hold > .zero { try? await Task.sleep(for: options.hold) } else { await Task.yield() }
        record.holds_ns.append([acquired, MonotonicTime.now()])
        do throws(RedLockError) {
            try await client.release(lock)
        } catch {
            record.errors["release: \(error.code)", default: 0] += 1
        }
    }
    return record
}

func runContention(_ options: Options) async throws -> ContentionResult {
    let client = try makeClient(options)
    try await warmUp(client, options)
    let start = try startInstant(options)
    let deadline = start + options.duration.nanosecondsRoundedDown
    try await Task.sleep(for: .nanoseconds(max(0, start - MonotonicTime.now())))
    let records = await withTaskGroup(of: ContenderRecord.self) { group in
        for _ in 0..<options.contenders {
            group.addTask { await contend(client, options, until: deadline) }
        }
        return await group.reduce(into: []) { $0.append($1) }
    }
    await client.shutdown()
    return ContentionResult(impl: "redlock-swift", mode: "contention", servers: options.servers.count,
                            notify: client.configuration.notifiesWaitersOnRelease, start_ns: start,
                            duration_s: options.duration.microseconds / 1e6, hold_us: options.hold.microseconds,
                            contenders: records)
}

// MARK: main

do {
    let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    switch options.mode {
    case "latency": try emit(try await runLatency(options))
    case "floor": try emit(try runFloor(options))
    case "fresh": try emit(try await runFresh(options))
    case "fresh-floor": try emit(try await runFreshFloor(options))
    default: try emit(try await runContention(options))
    }
} catch let error as UsageError {
    FileHandle.standardError.write(Data("RedLockRunner: \(error)\n\(Options.usage)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("RedLockRunner: \(error)\n".utf8))
    exit(1)
}
