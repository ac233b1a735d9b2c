@testable import RedLock
import Testing

/// Release-notice bookkeeping with injected randomness: each release once, 2/K of the time.
@Suite("ReleaseNoticeFilter: which release notices a client acts on")
struct ReleaseNoticeFilterTests {
    @Test func aReleaseToldByEveryServerIsActedOnOnce() {
        var filter = ReleaseNoticeFilter(), random = DecisionFixtures.SeededRandom(state: 1)
        #expect(filter.answers("digest-a 1", on: "channel", using: &random))
        #expect(!filter.answers("digest-a 1", on: "channel", using: &random))
        #expect(!filter.answers("digest-a 1", on: "channel", using: &random))
        #expect(filter.answers("digest-b 1", on: "channel", using: &random))
        #expect(filter.answers("digest-a 1", on: "other-channel", using: &random), "digests are per channel")
    }

    @Test func onlyTheLastEightReleasesAreRemembered() {
        var filter = ReleaseNoticeFilter(), random = DecisionFixtures.SeededRandom(state: 2)
        for release in 0...8 { #expect(filter.answers("digest-\(release) 1", on: "channel", using: &random)) }
        #expect(filter.answers("digest-0 1", on: "channel", using: &random), "the oldest was forgotten")
        #expect(!filter.answers("digest-8 1", on: "channel", using: &random))
        filter.forget("channel")
        #expect(filter.answers("digest-8 1", on: "channel", using: &random))
    }

    @Test(arguments: [(listening: 1, expected: 1.0), (2, 1.0), (4, 0.5), (32, 1.0 / 16)])
    func aClientAnswersWithProbabilityTwoOverK(listening: Int, expected: Double) {
        var filter = ReleaseNoticeFilter(), random = DecisionFixtures.SeededRandom(state: UInt64(listening))
        let releases = 4000
        let answered = (0..<releases).count { filter.answers("digest-\($0) \(listening)", on: "channel", using: &random) }
        #expect(abs(Double(answered) / Double(releases) - expected) < 0.03, "\(answered) of \(releases)")
    }

    @Test func aPayloadWithoutACountIsAnsweredAsIfOneClientListened() {
        var filter = ReleaseNoticeFilter(), random = DecisionFixtures.SeededRandom(state: 3)
        #expect(filter.answers("digest-only", on: "channel", using: &random))
        #expect(filter.answers("digest-2 not-a-number", on: "channel", using: &random))
    }
}
