import FaultSupport

/// The safety check's figures.
struct SafetyReport: Sendable, CustomStringConvertible {
    var seed: UInt64
    var immediateRestart: Bool
    /// "plain TCP" or "TLS only (rediss://)".
    var masters: String
    var cyclesRequested: Int
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
    /// Keys on the servers as soon as every contender had stopped.
    var keysRightAfterRun: [String]
    /// Keys still there once the longest TTL had passed after that.
    var staleKeys: [String]
    var before: ResourceUsage
    var after: ResourceUsage
    var wallTime: Duration

    var description: String {
        var lines = [
            "fault suite safety check\(immediateRestart ? " (IMMEDIATE RESTART variant)" : ""): seed \(seed) (replay: REDLOCK_FAULT_SEED=\(seed) REDLOCK_FAULT_CYCLES=\(cyclesRequested))",
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
        for overlap in overlaps.prefix(10) { lines.append("    overlap: \(overlap)") }
        return lines.joined(separator: "\n")
    }
}
