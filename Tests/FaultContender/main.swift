import FaultSupport
import Foundation
import RedLock
import RedisTestSupport

// A separate process for the fault suite (not a product; the tests run it from the build folder).
//
//   FaultContender loop --servers URL,URL,… <ContenderPlan arguments>
//       acquire → critical section → release until standard input closes; prints one
//       `CriticalSectionReport` line per critical section, then one `ContenderTally` line.
//   FaultContender cs --hold-us N [--beat-us M] [--store SOCKET --writer NAME]
//       the command cronlock runs: prints `begin <key> <start> <token>`, holds N µs (printing
//       `beat <key> <now>` every M µs meanwhile), prints its critical section (key from $CRONLOCK_KEY,
//       token from $CRONLOCK_FENCING_TOKEN, `-` without), exits 0. With a fenced store, writes to it
//       with the token as it begins and as it ends.

/// Writes `text` to stdout at once (no buffering between processes that compare timestamps).
func emit(_ text: String) {
    var bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress! + written, $0.count - written) }
        guard result > 0 else { return }
        written += result
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("FaultContender: \(message)\n".utf8))
    exit(64)
}

/// The command cronlock runs: its whole run is its critical section. With beats, each beat is an
/// action under the lock whose time a killed run leaves behind.
func criticalSectionCommand(_ arguments: ArraySlice<String>) async {
    let start = MonotonicTime.now()
    let key = ProcessInfo.processInfo.environment["CRONLOCK_KEY"] ?? "-"
    let token = ProcessInfo.processInfo.environment["CRONLOCK_FENCING_TOKEN"].flatMap(UInt64.init)
    emit("begin \(key) \(start) \(token.map(String.init) ?? "-")\n")
    let options = Dictionary(stride(from: arguments.startIndex, to: arguments.endIndex - 1, by: 2).map { (arguments[$0], arguments[$0 + 1]) },
                             uniquingKeysWith: { $1 })
    guard arguments.count % 2 == 0, Set(options.keys).isSubset(of: ["--hold-us", "--beat-us", "--store", "--writer"]),
          let hold = options["--hold-us"].flatMap(Int64.init) else {
        fail("usage: cs --hold-us N [--beat-us M] [--store SOCKET --writer NAME]")
    }
    let store = options["--store"].map(FencedStore.init(socketPath:))
    let write = { () async in
        guard let store, let token else { return }
        do { _ = try await store.write(key, token: token, writer: options["--writer"] ?? "cronlock") } catch { fail("fenced store: \(error)") }
    }
    await write()
    let beat = options["--beat-us"].flatMap(Int64.init) ?? hold
    let end = start + hold * 1000
    while MonotonicTime.now() < end {
        sleep(microseconds: min(beat, (end - MonotonicTime.now()) / 1000))
        if beat < hold { emit("beat \(key) \(MonotonicTime.now())\n") }
    }
    await write()
    emit(CriticalSectionReport(key: key, start: start, end: MonotonicTime.now(), validUntil: nil, token: token).line)
}

func sleep(microseconds: Int64) {
    guard microseconds > 0 else { return }
    var pause = timespec(tv_sec: Int(microseconds / 1_000_000), tv_nsec: Int(microseconds % 1_000_000) * 1000)
    var remaining = timespec()
    while nanosleep(&pause, &remaining) != 0, errno == EINTR { pause = remaining }
}

/// A Redlock contender with its own client, until standard input closes.
func contenderLoop(_ arguments: ArraySlice<String>) async {
    guard arguments.count >= 2, arguments.first == "--servers", let plan = ContenderPlan(arguments: arguments.dropFirst(2)) else {
        fail("usage: loop --servers URL,… --name NAME --keys K,… --ttl-us N --hold-us N --overrun P --pause-us N --seed S --key-life-us N "
             + "--restart-guard on|off [--store SOCKET]")
    }
    let servers = arguments[arguments.startIndex + 1].split(separator: ",").map(String.init)
    let stop = StopSignal.onStandardInputClosed()
    do {
        var configuration = try RedLockConfiguration(serverAddresses: servers)
        // rediss:// masters (the fault suite's TLS variant): trust the test CA, as cronlock does.
        configuration.tls.caFile = ProcessInfo.processInfo.environment["CRONLOCK_TLS_CA_FILE"]
        plan.configure(&configuration)
        let client = try RedLockClient(configuration: configuration)
        let tally = await ContenderLoop.run(client: client, plan: plan, stop: stop) { emit($0.line) }
        await client.shutdown()
        emit(tally.line)
    } catch {
        fail("\(error)")
    }
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "cs": await criticalSectionCommand(arguments.dropFirst())
case "loop": await contenderLoop(arguments.dropFirst())
default: fail("usage: FaultContender loop … | cs --hold-us N [--beat-us M]")
}
