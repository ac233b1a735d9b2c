@testable import RedLock
import Testing

/// The acquisition round's decision for every mix of answers, with no server.
@Suite("AcquireRoundMachine: an acquisition round's decision")
struct AcquireRoundMachineTests {
    typealias Machine = AcquireRoundMachine
    typealias Answer = Machine.Answer

    static let granted = Answer.granted(GrantInfo())
    static let heldByX = Answer.heldBy("x-token")
    static let heldByY = Answer.heldBy("y-token")
    static let timedOut = Answer.failed(ServerOutcome(.timedOut))
    static let refused = Answer.refused(reason: "job paused")
    static let serverError = Answer.failed(ServerOutcome(.serverError, detail: "ERR oops"))
    static let authFailed = Answer.failed(ServerOutcome(.authFailed, detail: "WRONGPASS"))
    static let withheld = Answer.voteWithheld(reason: "restarted 1 s ago without persistence")
    static let kinds = [granted, heldByX, heldByY, timedOut, refused, serverError, authFailed, withheld]
    /// For N = 5, the kinds that differ in how they count (8⁵ mixes would take seconds in a debug
    /// build; `authFailed` and `withheld` count like `serverError` toward the decision).
    static let kindsForFive = [granted, heldByX, heldByY, timedOut, refused, serverError]

    /// Feeds `answers` in order; returns the machine and the position of the answer that decided.
    /// Feeds `answers` in order to a round over `servers` (default: one per answer; the rest
    /// unanswered); returns the machine and the position of the answer that decided.
    static func feed(_ answers: [Answer], servers: Int? = nil) -> (machine: Machine, decidedAt: Int?) {
        let servers = servers ?? answers.count
        var machine = Machine(servers: servers, quorum: servers / 2 + 1)
        var decidedAt: Int?
        for (server, answer) in answers.enumerated() {
            switch machine.received(answer) {
            case .decide: decidedAt = server
            case .late: #expect(decidedAt != nil)
            case .wait: #expect(decidedAt == nil)
            }
        }
        return (machine, decidedAt)
    }

    static let plans = [1: DecisionFixtures.plan(servers: 1), 3: DecisionFixtures.plan(servers: 3), 5: DecisionFixtures.plan(servers: 5)]

    static func verdict(_ answers: [Answer], servers: Int? = nil, elapsed: Duration = .milliseconds(5), pins: [ConnectionID?]? = nil) -> Machine.Verdict {
        let servers = servers ?? answers.count
        let (machine, _) = feed(answers, servers: servers)
        return machine.verdict(plan: plans[servers]!, startedAt: DecisionFixtures.origin, now: DecisionFixtures.origin + elapsed,
                               duplicateServers: nil, pins: pins ?? (0..<servers).map { ConnectionID($0 + 1) }) { answers.indices.contains($0) ? answers[$0] : nil }
    }

    static func failure(_ verdict: Machine.Verdict) -> Machine.Failure? {
        if case .fail(let failure, _) = verdict { failure } else { nil }
    }

    // MARK: The table

    struct Case: CustomTestStringConvertible, Sendable {
        var answers: [Answer]
        var expected: Machine.Failure?  // nil: granted
        /// Servers in the round; those after `answers` have not answered when the verdict is asked.
        var servers: Int?
        var testDescription: String { "\(answers.map(AcquireRoundMachine.outcome).map(\.kind)) → \(expected.map { "\($0)" } ?? "grant")" }
    }

    static let table: [Case] = [
        // N = 1
        Case(answers: [granted], expected: nil),
        Case(answers: [heldByX], expected: .heldElsewhere),
        Case(answers: [timedOut], expected: .noQuorum(failed: 1, servers: 1, quorum: 1, misconfigured: false)),
        Case(answers: [refused], expected: .refused("job paused")),
        Case(answers: [serverError], expected: .noQuorum(failed: 1, servers: 1, quorum: 1, misconfigured: false)),
        Case(answers: [authFailed], expected: .noQuorum(failed: 1, servers: 1, quorum: 1, misconfigured: true)),
        Case(answers: [withheld], expected: .noQuorum(failed: 1, servers: 1, quorum: 1, misconfigured: false)),
        // N = 3
        Case(answers: [granted, granted, heldByX], expected: nil),
        Case(answers: [granted, timedOut, granted], expected: nil),
        Case(answers: [heldByX, heldByX, granted], expected: .heldElsewhere),
        Case(answers: [granted, heldByX, heldByY], expected: .splitVote),
        Case(answers: [heldByX, heldByY, timedOut], expected: .splitVote),
        Case(answers: [heldByX, timedOut, serverError], expected: .noQuorum(failed: 2, servers: 3, quorum: 2, misconfigured: false)),
        Case(answers: [heldByX, timedOut, granted], expected: .splitVote),
        Case(answers: [heldByX, timedOut], expected: .heldElsewhereWithSilent(holder: 1, silent: 1), servers: 3),
        Case(answers: [granted, withheld, timedOut], expected: .noQuorum(failed: 2, servers: 3, quorum: 2, misconfigured: false)),
        Case(answers: [granted, granted, refused], expected: nil),
        Case(answers: [granted, refused, heldByX], expected: .refused("job paused")),
        Case(answers: [authFailed, authFailed, granted], expected: .noQuorum(failed: 2, servers: 3, quorum: 2, misconfigured: true)),
        Case(answers: [authFailed, timedOut, granted], expected: .noQuorum(failed: 2, servers: 3, quorum: 2, misconfigured: false)),
        // N = 5
        Case(answers: [granted, granted, granted, heldByX, heldByX], expected: nil),
        Case(answers: [heldByX, heldByX, heldByX, granted, granted], expected: .heldElsewhere),
        Case(answers: [granted, granted, heldByX, heldByX, heldByY], expected: .splitVote),
        Case(answers: [granted, granted, heldByX, heldByX, timedOut], expected: .splitVote),
        Case(answers: [heldByX, heldByX, timedOut, serverError, granted], expected: .splitVote),
        Case(answers: [heldByX, heldByX, timedOut, serverError], expected: .heldElsewhereWithSilent(holder: 2, silent: 2), servers: 5),
        Case(answers: [heldByX, timedOut, timedOut, timedOut, granted], expected: .noQuorum(failed: 3, servers: 5, quorum: 3, misconfigured: false)),
        Case(answers: [granted, granted, withheld, withheld, heldByX], expected: .splitVote),
        Case(answers: [heldByX, withheld, withheld], expected: .heldElsewhereWithSilent(holder: 1, silent: 2), servers: 5),
        Case(answers: [granted, granted, withheld, withheld, withheld], expected: .noQuorum(failed: 3, servers: 5, quorum: 3, misconfigured: false)),
        Case(answers: [authFailed, authFailed, authFailed, granted, granted], expected: .noQuorum(failed: 3, servers: 5, quorum: 3, misconfigured: true)),
    ]

    @Test(arguments: table)
    func verdictOfEachMix(_ testCase: Case) {
        let verdict = Self.verdict(testCase.answers, servers: testCase.servers)
        if let expected = testCase.expected {
            #expect(Self.failure(verdict) == expected)
        } else {
            #expect(verdict == .grant(validUntil: DecisionFixtures.origin + .seconds(10) - DecisionFixtures.plan(servers: 1).drift))
        }
    }

    // MARK: Every mix, N = 1, 3, 5

    /// Every sequence of answers of the eight kinds (six for N = 5): the round is decided exactly when a majority
    /// granted or can no longer grant, the verdict is a grant exactly when a majority granted, and
    /// the clean-up names every server that may hold our key and no other.
    @Test(arguments: [1, 3, 5])
    func everyMixIsDecidedByTheMajorityRule(servers: Int) {
        let quorum = servers / 2 + 1
        var mixes: [[Answer]] = [[]]
        let kinds = servers == 5 ? Self.kindsForFive : Self.kinds
        for _ in 0..<servers { mixes = mixes.flatMap { mix in kinds.map { mix + [$0] } } }
        var wrong: [String] = []
        for answers in mixes {
            func check(_ holds: Bool, _ what: @autoclosure () -> String) {
                if !holds { wrong.append("\(answers.map(AcquireRoundMachine.outcome).map(\.kind)): \(what())") }
            }
            let (_, decidedAt) = Self.feed(answers)
            var grants = 0, others = 0, expectedDecision: Int?
            for (position, answer) in answers.enumerated() where expectedDecision == nil {
                if answer.isGrant { grants += 1 } else { others += 1 }
                if grants >= quorum || others > servers - quorum { expectedDecision = position }
            }
            check(decidedAt == expectedDecision, "decided at \(String(describing: decidedAt))")
            let verdict = Self.verdict(answers)
            let granted = answers.count(where: \.isGrant)
            switch verdict {
            case .grant: check(granted >= quorum, "granted without a majority")
            case .fail(let failure, let cleanUp):
                check(granted < quorum, "failed with a majority")
                let expectedCleanUp = answers.enumerated().compactMap { server, answer -> Machine.CleanUp? in
                    switch answer {
                    case .heldBy, .refused: nil
                    default: Machine.CleanUp(server: server, pin: ConnectionID(server + 1), awaited: answer != Self.timedOut)
                    }
                }
                check(cleanUp == expectedCleanUp, "clean-up \(cleanUp)")
                let refused = answers.contains(Self.refused)
                check(!refused || failure == .refused("job paused"), "a refusal not reported")
                let largest = [Self.heldByX, Self.heldByY].map { holder in answers.count { $0 == holder } }.max()!
                check(refused || largest < quorum || failure == .heldElsewhere, "a majority holder not reported")
            }
            // The verdict does not depend on the order the answers came in (checked up to N = 3:
            // a debug build takes too long for every N = 5 mix).
            if servers <= 3 { check(Self.failure(Self.verdict(answers.reversed())) == Self.failure(verdict), "order matters") }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(mixes.count == [1: 8, 3: 512, 5: 7776][servers])
    }

    // MARK: Late answers, validity, duplicates, pins

    @Test func answersAfterTheDecisionAreLateAndCompleteTheOutcomes() {
        var machine = Machine(servers: 5, quorum: 3)
        let answers: [Answer?] = [Self.granted, Self.granted, Self.granted, Self.heldByX, Self.timedOut]
        #expect(machine.received(Self.granted) == .wait)
        #expect(machine.received(Self.granted) == .wait)
        #expect(machine.outcomes { $0 < 2 ? answers[$0] : nil }.map(\.kind) == [.granted, .granted, .notAwaited, .notAwaited, .notAwaited])
        #expect(machine.received(Self.granted) == .decide)
        #expect(machine.received(Self.heldByX) == .late)
        #expect(machine.received(Self.timedOut) == .late)
        #expect(machine.outcomes { answers[$0] }.map(\.kind) == [.granted, .granted, .granted, .heldByAnother, .timedOut])
    }

    @Test func aGrantLeavingLessThanTheMinimumValidityFailsAndCleansUp() {
        let plan = DecisionFixtures.plan(servers: 3)  // TTL 10 s, drift 102 ms, minimum 1 s
        let elapsed = Duration.seconds(10) - plan.drift - .milliseconds(500)
        let verdict = Self.verdict([Self.granted, Self.granted, Self.timedOut], elapsed: elapsed)
        #expect(Self.failure(verdict) == .validityTooShort(left: .milliseconds(500), minimum: .seconds(1)))
        #expect(Self.failure(verdict)?.code == .noQuorum)
        #expect(Self.failure(verdict)?.mayPass == true)
        guard case .fail(_, let cleanUp) = verdict else { return }
        #expect(cleanUp == [Machine.CleanUp(server: 0, pin: 1, awaited: true), Machine.CleanUp(server: 1, pin: 2, awaited: true),
                            Machine.CleanUp(server: 2, pin: 3, awaited: false)])
    }

    /// The same rule holds when the caller gets the lock after the hop back from the I/O thread.
    @Test func aGrantHandedOutWithLessThanTheMinimumValidityLeftIsAShortfall() {
        let plan = DecisionFixtures.plan(servers: 3)  // minimum 1 s
        let now = ContinuousClock.now
        #expect(Machine.validityShortfall(of: now + .seconds(1), plan: plan, now: now) == nil)
        #expect(Machine.validityShortfall(of: now + .seconds(5), plan: plan, now: now) == nil)
        #expect(Machine.validityShortfall(of: now + .milliseconds(999), plan: plan, now: now)
                    == .validityTooShort(left: .milliseconds(999), minimum: .seconds(1)))
        #expect(Machine.validityShortfall(of: now - .milliseconds(3), plan: plan, now: now)
                    == .validityTooShort(left: .milliseconds(-3), minimum: .seconds(1)))
    }

    @Test func duplicateServersFailEvenAUnanimousGrant() {
        var machine = Machine(servers: 3, quorum: 2)
        for _ in 0..<3 { _ = machine.received(Self.granted) }
        let verdict = machine.verdict(plan: DecisionFixtures.plan(servers: 3), startedAt: DecisionFixtures.origin, now: DecisionFixtures.origin,
                                      duplicateServers: "a and b reach the same server", pins: [1, 2, 3]) { _ in Self.granted }
        #expect(Self.failure(verdict) == .duplicateServers("a and b reach the same server"))
        #expect(Self.failure(verdict)?.code == .invalidConfiguration)
    }

    @Test func serversNeverWrittenToAreNotCleanedUp() {
        let verdict = Self.verdict([Self.granted, Self.timedOut, Self.serverError], pins: [7, nil, 9])
        guard case .fail(_, let cleanUp) = verdict else { Issue.record("granted"); return }
        #expect(cleanUp == [Machine.CleanUp(server: 0, pin: 7, awaited: true), Machine.CleanUp(server: 2, pin: 9, awaited: true)])
    }

    @Test func serversNotHeardFromAtTheDecisionAreCleanedUpOnTheirConnection() {
        var machine = Machine(servers: 3, quorum: 2)
        _ = machine.received(Self.heldByX)
        #expect(machine.received(Self.heldByX) == .decide)
        let verdict = machine.verdict(plan: DecisionFixtures.plan(servers: 3), startedAt: DecisionFixtures.origin, now: DecisionFixtures.origin,
                                      duplicateServers: nil, pins: [1, 2, 3]) { $0 < 2 ? Self.heldByX : nil }
        #expect(verdict == .fail(.heldElsewhere, cleanUp: [Machine.CleanUp(server: 2, pin: 3, awaited: true)]))
    }

    // MARK: Reading replies

    @Test func repliesReadAsAnswers() {
        #expect(Answer(.success(.null), withheld: nil) == Self.granted)
        #expect(Answer(.success(.null), withheld: "restarted") == .voteWithheld(reason: "restarted"))
        #expect(Answer(.success(.bulk("x-token")), withheld: nil) == Self.heldByX)
        #expect(Answer(.success(.array([.bulk("refused"), .bulk("job paused")])), withheld: nil) == Self.refused)
        #expect(Answer(.success(.error("NOAUTH Authentication required.")), withheld: nil) == .failed(ServerOutcome(.authFailed, detail: "NOAUTH Authentication required.")))
        #expect(Answer(.success(.integer(3)), withheld: nil) == .failed(ServerOutcome(.protocolError, detail: "unexpected reply integer(3)")))
        #expect(Answer(.failure(ServerOutcome(.timedOut)), withheld: nil) == Self.timedOut)
    }
}
