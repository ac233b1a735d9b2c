import FaultSupport
import Foundation
import RedisTestSupport

/// Runs `cronlock` again and again, each time wrapping `FaultContender cs`, whose whole run is the
/// critical section it reports. Keys are shared with the library's contenders (`--prefix ""`).
struct CronlockContender: Sendable {
    let name: String
    let servers: [String]
    let keys: [String]
    /// cronlock's `--ttl`.
    let ttl: Duration
    let maximumHold: Duration
    let seed: UInt64

    /// What the runs ended with: exit code → count.
    typealias Exits = [Int32: Int]

    /// Runs cronlock until `stop` is set; returns the exit codes seen.
    func run(observer: CriticalSectionObserver, stop: StopSignal) async -> Exits {
        var generator = SeededGenerator(seed: seed)
        var exits: Exits = [:]
        var run = 0
        while !stop.isSet {
            run += 1
            let key = keys.randomElement(using: &generator)!
            let hold = Int64.random(in: 0...(maximumHold.nanosecondsRoundedDown / 1000), using: &generator)
            let code = await runOnce(key: key, holdMicroseconds: hold, holder: "\(name) run \(run)", observer: observer)
            exits[code, default: 0] += 1
        }
        return exits
    }

    /// The arguments of one run.
    func arguments(key: String, holdMicroseconds: Int64) -> [String] {
        ["--key", key, "--prefix", ""] + servers.flatMap { ["--server", $0] }
            + ["--ttl", "\(ttl.nanosecondsRoundedDown / 1_000_000)ms", "--wait", "200ms", "--min-hold", "0s", "--no-job-control",
               "--", BuiltProducts.faultContender.path, "cs", "--hold-us", "\(holdMicroseconds)"]
    }

    private func runOnce(key: String, holdMicroseconds: Int64, holder: String, observer: CriticalSectionObserver) async -> Int32 {
        let lines = LineCollector()
        guard let child = try? BuiltProducts.start(BuiltProducts.cronlock, arguments(key: key, holdMicroseconds: holdMicroseconds),
                                                  onLine: { lines.append($0) }) else { return -1 }
        let code = await child.exitCode(within: .seconds(60)) ?? -2
        let exited = MonotonicTime.now()
        let reports = lines.all.compactMap { CriticalSectionReport(line: $0[...]) }
        if let report = reports.first {
            observer.record(.init(key: report.key, holder: holder, start: report.start, end: report.end, validUntil: nil))
        } else if let begin = lines.all.first(where: { $0.hasPrefix("begin ") }), let start = begin.split(separator: " ").last.flatMap({ Int64($0) }) {
            // The command was killed before it could report its end (cronlock lost the lock):
            // its run ended before cronlock exited.
            observer.record(.init(key: key, holder: holder, start: start, end: exited, validUntil: nil, endIsUpperBound: true))
        }
        return code
    }
}

/// Lines from a reader thread, kept for the task that waits for the process.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: Substring) { lock.withLock { lines.append(String(line)) } }
    var all: [String] { lock.withLock { lines } }
}
