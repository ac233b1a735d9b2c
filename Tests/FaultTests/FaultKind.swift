/// What the fault schedule does to servers.
enum FaultKind: String, CaseIterable, Sendable, Comparable {
    /// SIGSTOP one or two of five, then SIGCONT: they accept bytes but answer nothing.
    case pauseMinority = "SIGSTOP/SIGCONT minority"
    /// SIGSTOP three to five of five, then SIGCONT: no lock can be taken or kept meanwhile.
    case pauseMajority = "SIGSTOP/SIGCONT majority"
    /// SIGKILL one server, restart it empty after at least the longest TTL (Redlock's delayed
    /// restart: every lock it granted has expired by then).
    case killRestartAfterTTL = "kill -9, restart after max TTL"
    /// SIGKILL one to three servers and restart them empty at once: breaks Redlock's assumption,
    /// so locks they granted may be granted again while still valid. Only in the variant that
    /// shows this.
    case killRestartAtOnce = "kill -9, restart at once"
    /// `DEBUG SLEEP` on one to three servers: the server blocks, then answers everything late.
    case debugSleep = "DEBUG SLEEP"
    /// `maxmemory` just above use, `noeviction`, filled until writes fail with OOM errors.
    case outOfMemory = "maxmemory+noeviction, filled (OOM errors)"
    /// `CONFIG SET requirepass` and the clients' connections killed: they reconnect without the
    /// password and are refused.
    case wrongPassword = "requirepass set (wrong auth)"
    /// The lock keys on one to three servers expire now (`PEXPIRE key 1`), as a server clock that
    /// jumps forward expires them: a holder may still think its lock valid. Only in the run that
    /// breaks the lock.
    case earlyExpiry = "keys expire early (clock jump forward, emulated)"
    /// SIGSTOP of a contender process past its TTL, then SIGCONT: it acts on as if it still held
    /// whatever lock it had. Only in the run that breaks the lock.
    case pauseContender = "SIGSTOP of a contender process past its TTL"

    static func < (lhs: FaultKind, rhs: FaultKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The kinds of the safety check; `immediateRestart` swaps the delayed restart for the
    /// immediate one, and `breakTheLock` adds the early expiry and the contender pause.
    /// The faults that break the lock come three times as often as the others in their variants,
    /// to meet the interleavings that show an overlap more often.
    static func schedule(immediateRestart: Bool, breakTheLock: Bool = false) -> [FaultKind] {
        let lockBreaking: [FaultKind] = [.earlyExpiry, .pauseContender]
        let common = allCases.filter { !lockBreaking.contains($0) }
        let base = immediateRestart
            ? common.filter { $0 != .killRestartAfterTTL } + [.killRestartAtOnce, .killRestartAtOnce]
            : common.filter { $0 != .killRestartAtOnce }
        return base + (breakTheLock ? lockBreaking + lockBreaking + lockBreaking : [])
    }
}

/// One fault: what, on which servers (indices) or contender process, for how long, and the quiet
/// time after it.
struct FaultEpisode: Sendable, CustomStringConvertible {
    var kind: FaultKind
    var targets: [Int]
    /// The contender process (index) a `.pauseContender` stops.
    var contender: Int?
    var hold: Duration
    var gapAfter: Duration

    var description: String { "\(kind.rawValue) on \(contender.map { "contender \($0)" } ?? "\(targets)") for \(hold)" }
}
