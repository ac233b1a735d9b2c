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

    static func < (lhs: FaultKind, rhs: FaultKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The kinds of the safety check; `immediateRestart` swaps the delayed restart for the
    /// immediate one.
    /// The immediate restart comes three times as often in its variant, to meet the interleaving
    /// that shows the overlap more often.
    static func schedule(immediateRestart: Bool) -> [FaultKind] {
        guard immediateRestart else { return allCases.filter { $0 != .killRestartAtOnce } }
        return allCases.filter { $0 != .killRestartAfterTTL } + [.killRestartAtOnce, .killRestartAtOnce]
    }
}

/// One fault: what, on which servers (indices), for how long, and the quiet time after it.
struct FaultEpisode: Sendable, CustomStringConvertible {
    var kind: FaultKind
    var targets: [Int]
    var hold: Duration
    var gapAfter: Duration

    var description: String { "\(kind.rawValue) on \(targets) for \(hold)" }
}
