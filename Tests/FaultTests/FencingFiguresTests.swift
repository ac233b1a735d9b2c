import RedisTestSupport
import Testing

/// The fenced run's checks find what they look for (no server: sections and writes built by hand).
@Suite("Fencing figures: the fenced run's checks")
struct FencingFiguresTests {
    private func section(_ holder: String, began: Int64, start: Int64, end: Int64, token: UInt64, key: String = "k") -> CriticalSectionObserver.Section {
        .init(key: key, holder: holder, start: start, end: end, validUntil: end, token: token, acquireBegan: began)
    }

    @Test func anAcquisitionAfterAnotherWithALowerTokenIsAnOrderViolation() {
        let figures = FencingFigures(sections: [section("a", began: 0, start: 10, end: 20, token: 5), section("b", began: 30, start: 40, end: 50, token: 4)],
                                     writes: [:], overlaps: [])
        #expect(figures.orderViolations.count == 1)
    }

    @Test func concurrentAcquisitionsMayGetTokensInEitherOrder() {
        let figures = FencingFigures(sections: [section("a", began: 0, start: 30, end: 40, token: 5), section("b", began: 10, start: 20, end: 50, token: 4)],
                                     writes: [:], overlaps: [])
        #expect(figures.orderViolations.isEmpty)
    }

    @Test func aTokenTwiceOnOneKeyIsADuplicateButNotAcrossKeys() {
        let sameKey = FencingFigures(sections: [section("a", began: 0, start: 1, end: 2, token: 7), section("b", began: 0, start: 1, end: 2, token: 7)],
                                     writes: [:], overlaps: [])
        let twoKeys = FencingFigures(sections: [section("a", began: 0, start: 1, end: 2, token: 7), section("b", began: 0, start: 1, end: 2, token: 7, key: "j")],
                                     writes: [:], overlaps: [])
        #expect(sameKey.duplicateTokens.count == 1)
        #expect(twoKeys.duplicateTokens.isEmpty)
    }

    @Test func storeWritesAreCountedAndAnOlderTokenAcceptedAfterANewerOneIsFound() {
        let earlier = section("a", began: 0, start: 10, end: 100, token: 5)
        let later = section("b", began: 20, start: 30, end: 60, token: 6)
        let writes = [FencedStore.Write(accepted: true, token: 5, writer: "a"), .init(accepted: true, token: 6, writer: "b"),
                      .init(accepted: false, token: 5, writer: "a"), .init(accepted: true, token: 5, writer: "a")]
        let figures = FencingFigures(sections: [earlier, later], writes: ["k": writes], overlaps: [.init(earlier: earlier, later: later)])
        #expect(figures.accepted == 3 && figures.refused == 1)
        #expect(figures.refusedFromOverlaps == 1 && figures.overlapsCaught == 1)
        #expect(figures.acceptedOutOfOrder.count == 1)
    }
}
