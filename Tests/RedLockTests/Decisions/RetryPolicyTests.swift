@testable import RedLock
import Testing

/// The retry policy with an injected clock and random numbers.
@Suite("RetryPolicy: split-vote jitter, waiting, giving up")
struct RetryPolicyTests {
    typealias SeededRandom = DecisionFixtures.SeededRandom

    static let origin = DecisionFixtures.origin

    static func policy(_ wait: LockWait, attempts: Int = 3, listens: Bool = true) -> RetryPolicy {
        RetryPolicy(attempts: attempts, delay: .milliseconds(100), wait: wait, waitDeadline: wait.limit.map { origin + $0 }, listensForRelease: listens)
    }

    static func delay(_ decision: RetryPolicy.Decision) -> Duration? {
        if case .retry(let delay, _) = decision { delay } else { nil }
    }

    @Test func splitVotesAreRetriedWithJitterUpToTheAttemptsThenGivenUp() {
        var random = SeededRandom(state: 1)
        let policy = Self.policy(.noWait)
        var delays: [Duration] = []
        for attempt in 1...2 {
            let decision = policy.next(after: .heldElsewhere, mayPass: true, attempt: attempt, now: Self.origin, using: &random)
            delays.append(Self.delay(decision)!)
            #expect(decision == .retry(after: delays.last!, listenForRelease: false))
        }
        #expect(delays.allSatisfy { $0 >= .milliseconds(50) && $0 < .milliseconds(150) })
        #expect(delays[0] != delays[1])
        #expect(policy.next(after: .heldElsewhere, mayPass: true, attempt: 3, now: Self.origin, using: &random) == .giveUp)
    }

    @Test func jitterStaysWithinHalfToOneAndAHalfTheDelayAndIsReproducible() {
        var first = SeededRandom(state: 42), second = SeededRandom(state: 42)
        let policy = Self.policy(.noWait, attempts: 1000)
        for attempt in 1..<1000 {
            let delay = Self.delay(policy.next(after: .noQuorum, mayPass: true, attempt: attempt, now: Self.origin, using: &first))!
            #expect(delay >= .milliseconds(50) && delay < .milliseconds(150))
            #expect(policy.next(after: .noQuorum, mayPass: true, attempt: attempt, now: Self.origin, using: &second) == .retry(after: delay, listenForRelease: false))
        }
    }

    @Test func aMajorityHolderIsNotRetriedWithoutWaiting() {
        var random = SeededRandom(state: 2)
        #expect(Self.policy(.noWait).next(after: .heldElsewhere, mayPass: false, attempt: 1, now: Self.origin, using: &random) == .giveUp)
    }

    @Test func aWaitingCallRetriesAMajorityHolderListeningForItsReleaseUntilTheWaitRunsOut() {
        var random = SeededRandom(state: 3)
        let policy = Self.policy(.upTo(.seconds(1)))
        let early = policy.next(after: .heldElsewhere, mayPass: false, attempt: 50, now: Self.origin, using: &random)
        guard case .retry(let delay, listenForRelease: true) = early else { Issue.record("\(early)"); return }
        #expect(delay >= .milliseconds(50) && delay < .milliseconds(150))
        // Near the end of the wait the pause is cut to what is left.
        #expect(policy.next(after: .heldElsewhere, mayPass: false, attempt: 50, now: Self.origin + .milliseconds(990), using: &random)
            == .retry(after: .milliseconds(10), listenForRelease: true))
        #expect(policy.next(after: .heldElsewhere, mayPass: false, attempt: 50, now: Self.origin + .seconds(1), using: &random) == .giveUp)
    }

    @Test func aCallThatWaitsForeverNeverGivesUpOnAHolderOrAnOutage() {
        var random = SeededRandom(state: 4)
        let policy = Self.policy(.forever, listens: false)
        for attempt in [1, 3, 1000] {
            #expect(Self.delay(policy.next(after: .heldElsewhere, mayPass: false, attempt: attempt, now: Self.origin + .seconds(3600), using: &random)) != nil)
            #expect(Self.delay(policy.next(after: .noQuorum, mayPass: true, attempt: attempt, now: Self.origin, using: &random)) != nil)
        }
        #expect(policy.next(after: .heldElsewhere, mayPass: false, attempt: 1, now: Self.origin, using: &random).listens == false)
    }

    @Test func misconfigurationAndOtherErrorsAreNeverRetried() {
        var random = SeededRandom(state: 5)
        let policy = Self.policy(.forever)
        #expect(policy.next(after: .noQuorum, mayPass: false, attempt: 1, now: Self.origin, using: &random) == .giveUp)
        for code in [RedLockError.Code.refused, .invalidConfiguration, .cancelled, .clientShutDown] {
            #expect(policy.next(after: code, mayPass: true, attempt: 1, now: Self.origin, using: &random) == .giveUp)
        }
    }
}

extension RetryPolicy.Decision {
    var listens: Bool { if case .retry(_, let listens) = self { listens } else { false } }
}
