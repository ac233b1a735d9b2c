@testable import RedLock
import Testing

/// Release and extension verdicts for every mix of outcomes, with no server.
@Suite("ScriptRoundVerdict: release and extension rounds")
struct ScriptRoundVerdictTests {
    static let kinds: [ServerOutcome] = [ServerOutcome(.granted), ServerOutcome(.notHeld), ServerOutcome(.timedOut),
                                         ServerOutcome(.notAwaited), ServerOutcome(.serverError, detail: "ERR")]

    static func mixes(_ servers: Int) -> [[ServerOutcome]] {
        var mixes: [[ServerOutcome]] = [[]]
        for _ in 0..<servers { mixes = mixes.flatMap { mix in kinds.map { mix + [$0] } } }
        return mixes
    }

    @Test(arguments: [1, 3, 5])
    func releaseIsConfirmedByAMajorityAndNotHeldWhenTheAnswersMakeOne(servers: Int) {
        let quorum = servers / 2 + 1
        for outcomes in Self.mixes(servers) {
            let confirmed = outcomes.count { $0.kind == .granted }, notHeld = outcomes.count { $0.kind == .notHeld }
            let expected: ScriptRoundVerdict = confirmed >= quorum ? .confirmed : confirmed + notHeld >= quorum ? .notHeld : .noQuorum
            #expect(ScriptRoundVerdict.release(outcomes, quorum: quorum) == expected)
        }
    }

    @Test(arguments: [1, 3, 5])
    func extensionIsConfirmedOnlyByAMajorityWithinTheNewValidity(servers: Int) {
        let quorum = servers / 2 + 1
        let validUntil = DecisionFixtures.origin + .seconds(10)
        for outcomes in Self.mixes(servers) {
            let confirmed = outcomes.count { $0.kind == .granted }, notHeld = outcomes.count { $0.kind == .notHeld }
            let failed: ScriptRoundVerdict = notHeld > servers - quorum ? .notHeld : .noQuorum
            #expect(ScriptRoundVerdict.extending(outcomes, quorum: quorum, duplicateServers: nil, now: DecisionFixtures.origin, validUntil: validUntil)
                == (confirmed >= quorum ? .confirmed : failed))
            // An answer that comes after the new validity has passed confirms nothing.
            #expect(ScriptRoundVerdict.extending(outcomes, quorum: quorum, duplicateServers: nil, now: validUntil, validUntil: validUntil) == failed)
        }
    }

    @Test func duplicateServersFailAnExtension() {
        let outcomes = Array(repeating: ServerOutcome(.granted), count: 3)
        #expect(ScriptRoundVerdict.extending(outcomes, quorum: 2, duplicateServers: "a and b", now: DecisionFixtures.origin,
                                             validUntil: DecisionFixtures.origin + .seconds(1)) == .duplicateServers("a and b"))
    }

    @Test func releaseTable() {
        let granted = ServerOutcome(.granted), notHeld = ServerOutcome(.notHeld), timedOut = ServerOutcome(.timedOut)
        #expect(ScriptRoundVerdict.release([granted, granted, timedOut], quorum: 2) == .confirmed)
        #expect(ScriptRoundVerdict.release([granted, notHeld, timedOut], quorum: 2) == .notHeld)
        #expect(ScriptRoundVerdict.release([granted, timedOut, timedOut], quorum: 2) == .noQuorum)
        #expect(ScriptRoundVerdict.release([notHeld], quorum: 1) == .notHeld)
    }
}
