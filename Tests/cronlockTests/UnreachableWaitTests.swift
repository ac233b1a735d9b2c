@testable import CronlockCore
import RedLock
import Testing

/// `--wait` while no majority answers: warn at once and then less often, back off, give up after
/// `--wait-unreachable`, and start over once the servers answer again.
@Suite("Waiting while the servers are unreachable")
struct UnreachableWaitTests {
    let start = ContinuousClock.now

    @Test func warnsAtOnceThenAtDoublingIntervalsAndPausesLonger() {
        var wait = UnreachableWait(limit: nil)
        var decisions: [UnreachableWait.Decision] = []
        for second in [0, 1, 5, 11, 20, 31, 60] {
            decisions.append(wait.unreachable(now: start + .seconds(second)))
        }
        #expect(decisions.map(\.warns) == [true, false, false, true, false, true, false], "warnings at 0 s, 10 s later, then 20 s later")
        #expect(decisions.map(\.pause) == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(15)])
    }

    @Test func givesUpOnceTheLimitHasPassedAndNeverPausesPastIt() {
        var wait = UnreachableWait(limit: .seconds(2))
        #expect(wait.unreachable(now: start) == .retry(after: .milliseconds(250), warn: true))
        #expect(wait.unreachable(now: start + .milliseconds(1900)) == .retry(after: .milliseconds(100), warn: false))
        #expect(wait.unreachable(now: start + .seconds(2)) == .giveUp)
    }

    @Test func aHeldLockMeansTheServersAnswerAndWaitsInSlices() {
        var wait = UnreachableWait(limit: .seconds(600))
        #expect(wait.nextAttempt(now: start, deadline: nil) == .noWait, "the first attempt finds out at once")
        _ = wait.unreachable(now: start)
        wait.held()
        #expect(wait.nextAttempt(now: start, deadline: nil) == .upTo(.seconds(60)))
        #expect(wait.nextAttempt(now: start, deadline: start + .seconds(5)) == .upTo(.seconds(5)))
        #expect(wait.unreachable(now: start + .seconds(700)) == .retry(after: .milliseconds(250), warn: true), "a new stretch starts")
        #expect(wait.nextAttempt(now: start, deadline: nil) == .noWait, "while unreachable, attempts do not wait")
    }
}

extension UnreachableWait.Decision {
    var warns: Bool { if case .retry(_, let warn) = self { warn } else { false } }
    var pause: Duration? { if case .retry(let pause, _) = self { pause } else { nil } }
}
