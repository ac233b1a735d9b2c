import RedisIO

/// One command sent to several servers at once, with one deadline for all of them: a driver that
/// sends, collects answers and times servers out, but decides nothing itself.
///
/// Commands go out on every server before any reply is read. The round is *decided* as soon as its
/// policy allows (for a majority round: when its judge, a decision value, says so), without
/// waiting for a slow minority; it stays in flight until every server answered or timed out, so
/// that a server that misses the deadline has its connection retired. Confined to the loop thread (asserted on entry).
final class FanOut {
    enum Policy {
        /// `judge` sees every answer (also those after the decision) and says whether the round is
        /// decided (see `AcquireRoundMachine`, `ScriptRoundVerdict`).
        case judged(_ judge: (_ position: Int, Answer) -> Bool)
        /// Decide once every server answered or timed out.
        case all
        /// As `all`, but servers in a failure streak (they timed out or failed last time) get the
        /// command without being waited for once every other server has answered and `needing`
        /// succeeded: a frozen server that still accepts connections must not cost every release
        /// a full timeout. When the others fall short of `needing`, the failing ones are waited
        /// for as well. Their commands still run, in order, if they recover.
        case allResponsive(needing: Int)
    }

    struct Target {
        let server: Int
        let command: RedisCommand
        /// Send on this connection when it is still open (to queue behind an earlier command).
        var pinned: ConnectionID?
    }

    typealias Answer = ServerResult<RedisReply>

    let deadline: ContinuousClock.Instant
    private(set) var answers: [Answer?]
    /// Servers in a failure streak that an `allResponsive` round need not wait for, and why.
    private var unawaited: [Int: ServerOutcome] = [:]
    private(set) var connectionIDs: [ConnectionID?]
    private let targets: [Target]
    private let policy: Policy
    private let lingerUntil: ContinuousClock.Instant
    /// For `allResponsive`: whether a reply counts toward `needing`.
    private let isSuccess: (RedisReply) -> Bool
    private let started = ContinuousClock.now
    private unowned let reactor: Reactor
    /// The reactor's server slots (fixed for its life), held here so that each use costs no
    /// check of the unowned reference.
    private let slots: [ServerSlot]
    private var connections: [RedisConnection?]
    private var onDecided: ((FanOut) -> Void)?
    /// Called once every server has answered or timed out (after `onDecided`); at once when set
    /// after that (a decision that waited for server identities may come after the last answer).
    var onCompleted: ((FanOut) -> Void)? {
        didSet {
            guard answered == targets.count, let completed = onCompleted else { return }
            onCompleted = nil
            completed(self)
        }
    }
    private var successes = 0
    private var answered = 0
    private var judgedDecided = false

    /// - Parameters:
    ///   - timeout: per-server budget from now.
    ///   - lingerFor: how long a connection retired by this round must stay open to deliver what it
    ///     carries (the lock's TTL: a late SET matters for that long).
    init(_ targets: [Target], policy: Policy, timeout: Duration, lingerFor: Duration, reactor: Reactor,
         isSuccess: @escaping (RedisReply) -> Bool = { _ in true }, onDecided: @escaping (FanOut) -> Void) {
        self.targets = targets
        self.policy = policy
        self.deadline = started + timeout
        self.lingerUntil = started + max(timeout, lingerFor)
        self.reactor = reactor
        self.slots = reactor.slots
        self.isSuccess = isSuccess
        self.onDecided = onDecided
        self.answers = Array(repeating: nil, count: targets.count)
        self.connectionIDs = Array(repeating: nil, count: targets.count)
        self.connections = Array(repeating: nil, count: targets.count)
    }

    /// Sends every command, then writes all sockets, and only then records servers that could not
    /// be asked: the round must not be decided (and cleaned up) before every command is out.
    func start() {
        let reactor = reactor
        reactor.loopThread.preconditionOnLoopThread()
        reactor.track(self)
        var unreachable: [(Int, ServerOutcome)] = []
        for (position, target) in targets.enumerated() {
            guard !reactor.isShutDown else {
                unreachable.append((position, ServerOutcome(.connectionClosed, detail: "client shut down")))
                continue
            }
            switch slots[target.server].connection(pinned: target.pinned, reactor: reactor) {
            case .failure(let outcome):
                unreachable.append((position, outcome))
            case .success(let connection):
                connections[position] = connection
                connectionIDs[position] = connection.id
                send(target.command.bytes, fallback: target.command.fallback, at: position, on: connection)
            }
        }
        for (position, connection) in connections.enumerated() {
            if let connection { slots[targets[position].server].flush(connection) }
        }
        for (position, outcome) in unreachable { store(position, .failure(outcome)) }
        if case .allResponsive = policy {
            for (position, target) in targets.enumerated() where answers[position] == nil {
                guard let failure = slots[target.server].recentFailure else { continue }
                unawaited[position] = ServerOutcome(.notAwaited, detail: "it failed recently: \(failure); the command was still sent")
            }
        }
        settle()
    }

    /// The deadline passed: every server still silent timed out, and its connection is retired
    /// (all of them before the round is decided, so clean-up sees every timeout).
    func expire() {
        reactor.loopThread.preconditionOnLoopThread()
        for position in targets.indices where answers[position] == nil {
            let stalled = connections[position]?.stallDescription
            if let connection = connections[position] {
                slots[targets[position].server].retire(connection, lingerUntil: lingerUntil)
            }
            store(position, .failure(ServerOutcome(.timedOut, detail: stalled)))
        }
        settle()
    }

    private func send(_ bytes: [UInt8], fallback: RedisCommand.Fallback?, at position: Int, on connection: RedisConnection) {
        connection.append(bytes) { [weak self] answer in
            guard let self else { return }
            if case .success(.error(let line)) = answer, let fallback, line.hasPrefix(fallback.errorPrefix),
               onDecided != nil || fallback.allowedAfterDecision {
                send(fallback.encode(), fallback: nil, at: position, on: connection)
                slots[targets[position].server].flush(connection)
                return
            }
            store(position, answer)
            settle()
        }
    }

    private func store(_ position: Int, _ answer: Answer) {
        guard answers[position] == nil else { return }
        answers[position] = answer
        answered += 1
        if case .success(let reply) = answer {
            slots[targets[position].server].recordLatency(since: started)
            if isSuccess(reply) { successes += 1 }
        }
        if case .judged(let judge) = policy, judge(position, answer) { judgedDecided = true }
    }

    /// Decides the round once its policy allows, and stops tracking it once everyone answered.
    private func settle() {
        if let onDecided, isDecided {
            self.onDecided = nil
            onDecided(self)
        }
        if isComplete {
            reactor.untrack(self)
            let completed = onCompleted
            onCompleted = nil
            completed?(self)
        }
    }

    /// Every server has answered or timed out.
    var isComplete: Bool { answered == targets.count }

    /// The answers as the round reports them: a server it did not wait for is `notAwaited`.
    var reportedAnswers: [Answer?] {
        guard !unawaited.isEmpty else { return answers }
        return answers.indices.map { answers[$0] ?? unawaited[$0].map { .failure($0) } }
    }

    private var isDecided: Bool {
        switch policy {
        case .judged:
            judgedDecided
        case .all:
            answered == targets.count
        case .allResponsive(let needing):
            answered == targets.count
                || successes >= needing && !answers.indices.contains { answers[$0] == nil && unawaited[$0] == nil }
        }
    }
}
