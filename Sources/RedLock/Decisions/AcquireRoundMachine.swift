/// Decides one acquisition round from the servers' answers, as a value: the reactor feeds it each
/// server's answer and performs what it returns; unit tests feed it answers directly.
///
/// The round is decided at the first majority either way (a majority granted, or a majority can
/// no longer grant); answers after that only complete the reports. The verdict then says whether
/// the lock is ours and for how long, or why not and which servers owe a clean-up on which
/// connection. The answers themselves stay with the driver (`FanOut` keeps them anyway): the
/// machine counts, and the verdict reads them through a closure, so deciding copies nothing.
struct AcquireRoundMachine: Sendable {
    /// What one server answered, as far as the round's decision cares.
    enum Answer: Hashable, Sendable {
        /// The server set the key for us; `GrantInfo` carries what else the grant said.
        case granted(GrantInfo)
        /// The key holds another holder's stored value (never printed: it holds a token).
        case heldBy(String)
        /// The acquire script refused the lock, whoever holds it (cronlock: a paused job).
        case refused(reason: String?)
        /// Fencing: the key was free, but the proposal was not above the server's `fence`; nothing
        /// was written.
        case fenceTooLow(fence: UInt64?)
        /// The server granted, but its vote does not count (see `RestartGuard`); the reason.
        case voteWithheld(reason: String)
        /// No usable answer: timed out, unreachable, or an error reply.
        case failed(ServerOutcome)

        var isGrant: Bool { if case .granted = self { true } else { false } }
    }

    /// What the driver does after an answer.
    enum Action: Hashable, Sendable {
        /// Not decided yet: wait for more answers (or the deadline).
        case wait
        /// Decided now: ask for the `verdict` (once every server's identity is known).
        case decide
        /// An answer after the decision: it only completes the reports.
        case late
    }

    private var tally: QuorumTally
    private(set) var isDecided = false

    var servers: Int { tally.servers }
    var quorum: Int { tally.quorum }

    /// A round over `servers` servers that needs `quorum` grants.
    init(servers: Int, quorum: Int) {
        tally = QuorumTally(servers: servers, quorum: quorum)
    }

    /// Counts one server's answer (the driver passes each server's first answer only) and says
    /// what to do next.
    mutating func received(_ answer: Answer) -> Action {
        let decided = tally.count(yes: answer.isGrant)
        guard !isDecided else { return .late }
        guard decided else { return .wait }
        isDecided = true
        return .decide
    }

    /// Each server's outcome as reported, from `answer(server)` (nil: not heard from yet, reported
    /// as `notAwaited`).
    func outcomes(_ answer: (_ server: Int) -> Answer?) -> [ServerOutcome] { (0..<servers).map { Self.outcome(answer($0)) } }

    /// The outcome a server's answer is reported as.
    static func outcome(_ answer: Answer?) -> ServerOutcome {
        switch answer {
        case nil: ServerOutcome(.notAwaited)
        case .granted: ServerOutcome(.granted)
        case .heldBy: ServerOutcome(.heldByAnother)
        case .refused(let reason): ServerOutcome(.refused, detail: reason)
        case .fenceTooLow(let fence): ServerOutcome(.fenceTooLow, detail: fence.map { "its fence is \($0)" })
        case .voteWithheld(let reason): ServerOutcome(.voteWithheld, detail: reason)
        case .failed(let outcome): outcome
        }
    }
}
