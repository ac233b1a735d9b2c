import FaultSupport
import Foundation
import RedisTestSupport

/// Runs `cronlock` again and again, each time wrapping `FaultContender cs`, whose whole run is the
/// critical section it reports. Keys are shared with the library's contenders (`--prefix ""`).
///
/// Every `pauseEvery`-th run (when set) is the "client process paused" fault: its command holds
/// for three TTLs, beating every 2 ms, while the contender stops cronlock itself (SIGSTOP) for the
/// TTL plus 300 ms. Only cronlock's guard can then end the command by the lock's deadline; its last
/// beat is the end of its section.
struct CronlockContender: Sendable {
    let name: String
    let servers: [String]
    /// Added to cronlock's environment (`CRONLOCK_TLS_CA_FILE` for `rediss://` servers).
    let environment: [String: String]
    let keys: [String]
    /// cronlock's `--ttl`.
    let ttl: Duration
    let maximumHold: Duration
    let seed: UInt64
    var pauseEvery: Int?
    /// The Unix socket of a `FencedStore`: each command writes to it with `CRONLOCK_FENCING_TOKEN`
    /// as it begins and as it ends.
    var fencedStore: String?

    /// Exit codes of a run that ran, was skipped, found no quorum or lost its lock.
    static let expectedExits: Set<Int32> = [0, 69, 75, 79]

    /// What the runs ended with: exit code → count, how many runs had cronlock stopped, and the
    /// first few runs that ended otherwise than `expectedExits` (code, run, pause, stderr).
    struct Outcome: Sendable {
        var exits: [Int32: Int] = [:]
        var clientPauses = 0
        var unexpected: [String] = []

        mutating func merge(_ other: Outcome) {
            exits.merge(other.exits, uniquingKeysWith: +)
            clientPauses += other.clientPauses
            unexpected += other.unexpected
        }
    }

    /// Runs cronlock until `stop` is set; returns what the runs ended with.
    func run(observer: CriticalSectionObserver, stop: StopSignal) async -> Outcome {
        var generator = SeededGenerator(seed: seed)
        var outcome = Outcome()
        var run = 0
        while !stop.isSet {
            run += 1
            let key = keys.randomElement(using: &generator)!
            let hold = Int64.random(in: 0...(maximumHold.nanosecondsRoundedDown / 1000), using: &generator)
            let paused = pauseEvery.map { run % $0 == 0 } ?? false
            let (code, standardError) = await runOnce(key: key, holdMicroseconds: paused ? 3 * ttl.nanosecondsRoundedDown / 1000 : hold,
                                                      paused: paused, holder: "\(name) run \(run)", observer: observer)
            outcome.exits[code, default: 0] += 1
            if !Self.expectedExits.contains(code), outcome.unexpected.count < 3 {
                outcome.unexpected.append("exit \(code), \(name) run \(run)\(paused ? " (paused)" : ""): \(standardError.suffix(600))")
            }
            if paused { outcome.clientPauses += 1 }
        }
        return outcome
    }

    /// The arguments of one run (cronlock's default fencing, best-effort: the command gets a token).
    private func arguments(key: String, holdMicroseconds: Int64, beats: Bool, holder: String) -> [String] {
        let cronlock: [String] = ["--key", key, "--prefix", ""] + servers.flatMap { ["--server", $0] }
            + ["--ttl", "\(ttl.nanosecondsRoundedDown / 1_000_000)ms", "--wait", "200ms", "--min-hold", "0s", "--no-job-control"]
        var command = [BuiltProducts.faultContender.path, "cs", "--hold-us", "\(holdMicroseconds)"]
        if beats { command += ["--beat-us", "2000"] }
        if let fencedStore { command += ["--store", fencedStore, "--writer", holder] }
        return cronlock + ["--"] + command
    }

    /// One cronlock run: its exit code and its stderr.
    private func runOnce(key: String, holdMicroseconds: Int64, paused: Bool, holder: String, observer: CriticalSectionObserver) async -> (Int32, String) {
        let lines = LineCollector()
        let began = MonotonicTime.now()
        guard let child = try? BuiltProducts.start(BuiltProducts.cronlock, arguments(key: key, holdMicroseconds: holdMicroseconds, beats: paused, holder: holder),
                                                  adding: environment, onLine: { lines.append($0) }) else { return (-1, "cannot start cronlock") }
        if paused, await eventually(within: .seconds(10), { lines.all.contains { $0.hasPrefix("begin ") } }) {
            child.signal(SIGSTOP)
            try? await Task.sleep(for: ttl + .milliseconds(300))
            child.signal(SIGCONT)
        }
        let code = await child.exitCode(within: .seconds(60)) ?? -2
        let exited = MonotonicTime.now()
        let reports = lines.all.compactMap { CriticalSectionReport(line: $0[...]) }
        // `begin <key> <start> <token>`, `beat <key> <now>`: the fields after the key.
        let fields = { (prefix: String) in lines.all.filter { $0.hasPrefix(prefix) }.map { $0.split(separator: " ").dropFirst(2) } }
        if let report = reports.first {
            observer.record(.init(report, holder: holder, acquireBegan: began))
        } else if let begin = fields("begin ").first, let start = begin.first.flatMap({ Int64($0) }) {
            // The command was killed before it could report its end (cronlock lost the lock, or the
            // guard's deadline passed): its last beat is its last action; without beats, its run
            // ended before cronlock exited.
            let lastBeat = fields("beat ").last?.first.flatMap { Int64($0) }
            observer.record(.init(key: key, holder: holder, start: start, end: lastBeat ?? exited, validUntil: nil,
                                  token: begin.dropFirst().first.flatMap { UInt64($0) }, acquireBegan: began, endIsUpperBound: lastBeat == nil))
        }
        return (code, child.standardError)
    }
}

/// Lines from a reader thread, kept for the task that waits for the process.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: Substring) { lock.withLock { lines.append(String(line)) } }
    var all: [String] { lock.withLock { lines } }
}
