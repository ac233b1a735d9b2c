import Foundation
import Testing
import TestLoad

/// The proof that fencing keeps data in order when the lock alone does not: the safety check's
/// random schedule with the faults that break Redlock's assumptions on purpose, while every
/// contender (tasks, contender processes, cronlock's commands) writes to a fenced store.
@Suite("Fenced store under the fault schedule: the lock breaks, the data stays in order", needsRedis, .load(.alone))
struct FencedStoreUnderFaultsTests {
    /// Servers killed and restarted empty at once with the library contenders' restart guard off,
    /// lock keys expired early on one to three masters (a forward clock jump, emulated with
    /// `PEXPIRE`), contender processes stopped past their TTL, besides the schedule's pauses,
    /// `DEBUG SLEEP`s, OOM and auth faults. Overlaps happen (the lock alone failed); the store
    /// accepts no write with an older token after a newer one, tokens are unique per key and
    /// increase in acquisition order, and the store refused stale writes.
    /// `REDLOCK_FAULT_FENCED_CYCLES` sets the cycles (default 300, of critical sections up to 200 ms).
    @Test func whenTheLockBreaksTheFencedStoreAcceptsNoOlderTokenAfterANewerOne() async throws {
        let cycles = ProcessInfo.processInfo.environment["REDLOCK_FAULT_FENCED_CYCLES"].flatMap(Int.init).map { max(1, $0) } ?? 300
        var run = SafetyRun(seed: FaultSettings.seed, cycles: cycles, immediateRestart: true)
        run.cyclesVariable = "REDLOCK_FAULT_FENCED_CYCLES"
        run.breakTheLock = true
        run.fenced = true
        // Long critical sections, so that a holder is still inside when the lock is broken under it.
        run.maximumHold = .milliseconds(200)
        let report = try await run.run()
        print(report)
        let fencing = try #require(report.fencing)
        #expect(report.finishedInTime, "only \(report.cycles) of \(report.cyclesRequested) cycles in the time limit (seed \(report.seed))")
        for kind in [FaultKind.killRestartAtOnce, .earlyExpiry, .pauseContender] {
            #expect(report.faults[kind, default: 0] > 0, "seed \(report.seed): no \(kind.rawValue) was injected")
        }
        #expect(!report.overlaps.isEmpty, "seed \(report.seed): no overlap happened, so the run shows nothing about fencing")
        #expect(fencing.acceptedOutOfOrder.isEmpty, "seed \(report.seed): \(fencing.acceptedOutOfOrder.prefix(3))")
        #expect(fencing.duplicateTokens.isEmpty, "seed \(report.seed): \(fencing.duplicateTokens.prefix(3))")
        #expect(fencing.orderViolations.isEmpty, "seed \(report.seed): \(fencing.orderViolations.prefix(3))")
        #expect(fencing.sectionsWithoutToken == 0, "seed \(report.seed)")
        #expect(fencing.refused > 0, "seed \(report.seed): the store never had to refuse a stale write")
        #expect(report.tally.storeFailures == 0, "seed \(report.seed)")
    }
}
