@testable import RedLock
import Testing

/// `withLock`'s renewal schedule with a test clock.
@Suite("RenewalSchedule: when withLock extends and when the lock is lost")
struct RenewalScheduleTests {
    static let origin = DecisionFixtures.origin
    static let ttl = Duration.seconds(30)

    @Test func extendsEveryThirdOfTheTTL() {
        var schedule = RenewalSchedule(ttl: Self.ttl, validUntil: Self.origin + .seconds(29), now: Self.origin)
        #expect(schedule.wakeAt == Self.origin + .seconds(10))
        #expect(schedule.woke(at: schedule.wakeAt) == .extend)
        schedule.extended(ttl: Self.ttl, validUntil: Self.origin + .seconds(39), now: Self.origin + .seconds(10))
        #expect(schedule.wakeAt == Self.origin + .seconds(20))
        // A new TTL changes the period.
        schedule.extended(ttl: .seconds(3), validUntil: Self.origin + .seconds(22), now: Self.origin + .seconds(20))
        #expect(schedule.wakeAt == Self.origin + .seconds(21))
    }

    @Test func aFailedExtensionIsRetriedEveryTenthOfTheTTLUntilValidityPasses() {
        var schedule = RenewalSchedule(ttl: Self.ttl, validUntil: Self.origin + .seconds(29), now: Self.origin)
        var now = schedule.wakeAt
        var retries: [Duration] = []
        while schedule.woke(at: now) == .extend {
            #expect(schedule.extensionFailed(.noQuorum, now: now) == .extend)
            retries.append(schedule.wakeAt - Self.origin)
            now = schedule.wakeAt
        }
        #expect(retries == [.seconds(13), .seconds(16), .seconds(19), .seconds(22), .seconds(25), .seconds(28), .seconds(29)])
        #expect(now == Self.origin + .seconds(29))
        #expect(schedule.woke(at: now) == .lost)
    }

    @Test func aMajoritySayingTheKeyIsGoneLosesTheLockAtOnce() {
        var schedule = RenewalSchedule(ttl: Self.ttl, validUntil: Self.origin + .seconds(29), now: Self.origin)
        #expect(schedule.extensionFailed(.notHeld, now: Self.origin + .seconds(10)) == .lost)
    }

    @Test func wakingLateAfterValidityPassedIsALoss() {
        let schedule = RenewalSchedule(ttl: Self.ttl, validUntil: Self.origin + .seconds(29), now: Self.origin)
        #expect(schedule.woke(at: Self.origin + .seconds(40)) == .lost)
        #expect(schedule.woke(at: Self.origin + .seconds(28)) == .extend)
    }

    @Test func aShortValidityWakesAtItsEndBeforeTheFirstExtension() {
        let schedule = RenewalSchedule(ttl: Self.ttl, validUntil: Self.origin + .seconds(5), now: Self.origin)
        #expect(schedule.wakeAt == Self.origin + .seconds(5))
    }
}
