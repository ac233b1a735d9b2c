import RedLock
import RedisTestSupport

/// The contender's loop, the same in a test task and in a `FaultContender` process: acquire a
/// random key without waiting, hold it for a random time, report the critical section, release.
public enum ContenderLoop {
    /// Runs cycles with `client` until `stop` is set; calls `report` for every critical section
    /// (in `MonotonicTime`, with the lock's validity deadline) before releasing its lock.
    public static func run(client: RedLockClient, plan: ContenderPlan, stop: StopSignal,
                           report: @Sendable (CriticalSectionReport) -> Void) async -> ContenderTally {
        var generator = SeededGenerator(seed: plan.seed)
        var tally = ContenderTally()
        while !stop.isSet, !Task.isCancelled {
            let key = plan.keys.randomElement(using: &generator)!
            do {
                if let lock = try await client.tryAcquire(key, ttl: plan.ttl) {
                    let start = MonotonicTime.now()
                    let validUntil = MonotonicTime.nanoseconds(of: lock.validUntil)
                    try? await Task.sleep(for: holdTime(plan, using: &generator))
                    report(CriticalSectionReport(key: key, start: start, end: MonotonicTime.now(), validUntil: validUntil))
                    do {
                        try await client.release(lock)
                    } catch {
                        tally.releaseFailures["\(error.code)", default: 0] += 1
                    }
                    tally.cycles += 1
                } else {
                    tally.heldElsewhere += 1
                }
            } catch {
                tally.acquireFailures["\(error.code)", default: 0] += 1
            }
            let pause = Duration.nanoseconds(Int64.random(in: 0...plan.maximumPause.nanosecondsRoundedDown, using: &generator))
            try? await Task.sleep(for: pause)
        }
        return tally
    }

    /// Usually up to `maximumHold`; with `overrunChance`, past the TTL.
    private static func holdTime(_ plan: ContenderPlan, using generator: inout SeededGenerator) -> Duration {
        if Double.random(in: 0..<1, using: &generator) < plan.overrunChance {
            return plan.ttl + plan.ttl / 4
        }
        return .nanoseconds(Int64.random(in: 0...plan.maximumHold.nanosecondsRoundedDown, using: &generator))
    }
}
