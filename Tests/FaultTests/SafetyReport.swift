import FaultSupport

/// The safety check's figures.
struct SafetyReport: Sendable, CustomStringConvertible {
    var seed: UInt64
    /// The variant's name (`IMMEDIATE RESTART`, …), nil for the safety check itself.
    var variant: String?
    /// "plain TCP" or "TLS only (rediss://)".
    var masters: String
    var cyclesRequested: Int
    /// The environment variable that sets the cycles of this run's test (for the replay line).
    var cyclesVariable: String
    var cycles: Int
    var finishedInTime: Bool
    var contenders: String
    var tally: ContenderTally
    var cronlockExits: [Int32: Int]
    /// cronlock runs whose cronlock was stopped (SIGSTOP) past its TTL while the command ran.
    var clientPauses: Int
    /// The first cronlock runs with an exit code the check does not expect: code, run, stderr.
    var cronlockUnexpected: [String]
    var faults: [FaultKind: Int]
    var injectionErrors: [String]
    var overlaps: [CriticalSectionObserver.Overlap]
    /// Critical sections that began after their own validity deadline.
    var enteredExpired: Int
    /// With a fenced store (`SafetyRun.fenced`): what the tokens and the store show.
    var fencing: FencingFigures?
    /// Keys on the servers as soon as every contender had stopped.
    var keysRightAfterRun: [String]
    /// Keys still there once the longest TTL had passed after that.
    var staleKeys: [String]
    var before: ResourceUsage
    var after: ResourceUsage
    var wallTime: Duration

    var description: String {
        var lines = [
            "fault suite safety check\(variant.map { " (\($0) variant)" } ?? ""): seed \(seed) (replay: REDLOCK_FAULT_SEED=\(seed) \(cyclesVariable)=\(cyclesRequested))",
            "  masters: 5, \(masters); contenders: \(contenders)",
            "  cycles: \(cycles) critical sections (asked for \(cyclesRequested)) in \(String(format: "%.1f", wallTime.milliseconds / 1000)) s",
            "  library contenders: \(tally.cycles) cycles, \(tally.heldElsewhere) found the key held, acquire failures \(tally.acquireFailures.sorted { $0.key < $1.key }), release failures \(tally.releaseFailures.sorted { $0.key < $1.key })",
            "  cronlock runs by exit code: \(cronlockExits.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))"
                + cronlockUnexpected.prefix(3).map { "\n    unexpected: \($0)" }.joined(),
            "  faults injected: \(faults.values.reduce(0, +)): " + faults.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "),
            "  client process paused (SIGSTOP of cronlock past its TTL): \(clientPauses) runs",
            "  injection errors: \(injectionErrors.count)" + (injectionErrors.isEmpty ? "" : " (first: \(injectionErrors[0]))"),
            "  overlaps: \(overlaps.count); sections entered after their validity: \(enteredExpired)",
            "  keys right after the run: \(keysRightAfterRun.count); stale keys after the longest TTL: \(staleKeys.count)",
            "  test process before: \(before) (\(before.descriptorsBesideRunLoops) beside run loops); after: \(after) (\(after.descriptorsBesideRunLoops) beside run loops)"
                + (after.fileDescriptors > before.fileDescriptors ? " (new: \(after.newDescriptors(since: before)))" : ""),
        ]
        if let fencing { lines += ["\(fencing)", "  fenced store writes that failed (no answer): \(tally.storeFailures)"] }
        for overlap in overlaps.prefix(10) { lines.append("    overlap: \(overlap)") }
        return lines.joined(separator: "\n")
    }
}
