import RedLock
import RedisTestSupport

/// The contender's loop, the same in a test task and in a `FaultContender` process: acquire a
/// random key without waiting, hold it for a random time, report the critical section, release.
public enum ContenderLoop {
    /// Runs cycles with `client` until `stop` is set; calls `report` for every critical section
    /// (in `MonotonicTime`, with the lock's validity deadline and fencing token) before releasing
    /// its lock. With the plan's fenced store, the section writes to it as it begins and as it
    /// ends, whether or not the lock is still valid by then (as a paused process would).
    public static func run(client: RedLockClient, plan: ContenderPlan, stop: StopSignal,
                           report: @Sendable (CriticalSectionReport) -> Void) async -> ContenderTally {
        var generator = SeededGenerator(seed: plan.seed)
        var tally = ContenderTally()
        let store = plan.fencedStore.map(FencedStore.init(socketPath:))
        while !stop.isSet, !Task.isCancelled {
            let key = plan.keys.randomElement(using: &generator)!
            do {
                let began = MonotonicTime.now()
                if let lock = try await client.tryAcquire(key, ttl: plan.ttl) {
                    let start = MonotonicTime.now()
                    let validUntil = MonotonicTime.nanoseconds(of: lock.validUntil)
                    await write(store, lock, plan.name, &tally)
                    try? await Task.sleep(for: holdTime(plan, using: &generator))
                    await write(store, lock, plan.name, &tally)
                    report(CriticalSectionReport(key: key, start: start, end: MonotonicTime.now(), validUntil: validUntil,
                                                 token: lock.fencingToken, acquireBegan: began))
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

    /// One write under `lock` to the fenced store, if there is one; a store that does not answer
    /// is counted, not fatal.
    private static func write(_ store: FencedStore?, _ lock: Lock, _ writer: String, _ tally: inout ContenderTally) async {
        guard let store, let token = lock.fencingToken else { return }
        do {
            _ = try await store.write(lock.resource, token: token, writer: writer)
        } catch {
            tally.storeFailures += 1
        }
    }

    /// Usually up to `maximumHold`; with `overrunChance`, past the TTL.
    private static func holdTime(_ plan: ContenderPlan, using generator: inout SeededGenerator) -> Duration {
        if Double.random(in: 0..<1, using: &generator) < plan.overrunChance {
            return plan.ttl + plan.ttl / 4
        }
        return .nanoseconds(Int64.random(in: 0...plan.maximumHold.nanosecondsRoundedDown, using: &generator))
    }
}
