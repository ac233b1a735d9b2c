/// Counts a round's answers against its quorum: the one place that says when a majority round is
/// decided (a majority said yes, or a majority can no longer say yes).
struct QuorumTally: Hashable, Sendable {
    let servers: Int
    let quorum: Int
    private(set) var yes = 0
    private(set) var no = 0

    init(servers: Int, quorum: Int) {
        self.servers = servers
        self.quorum = quorum
    }

    /// ⌊N/2⌋ + 1: the servers that must agree out of `servers`.
    static func majority(of servers: Int) -> Int { servers / 2 + 1 }

    /// Counts one answer; returns whether the round is decided now (and stays so).
    mutating func count(yes isYes: Bool) -> Bool {
        if isYes { yes += 1 } else { no += 1 }
        return isDecided
    }

    /// A majority said yes, or too many said no for one to be possible.
    var isDecided: Bool { yes >= quorum || no > servers - quorum }
}
