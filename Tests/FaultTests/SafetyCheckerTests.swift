import RedisTestSupport
import Testing
import TestLoad

@Suite("Safety under faults: no two holders at once", needsRedis, .load(.alone))
struct SafetyCheckerTests {
    /// The CI run (`REDLOCK_FAULT_CYCLES`, default 5 000) and the soak (50 000): with killed servers
    /// restarted only after the longest TTL, no two holders of a key ever overlap, nothing is
    /// left on the servers, and the test process holds no more descriptors than before (beside
    /// the run loops Foundation leaves on Dispatch's pooled threads; see `ResourceUsage`).
    @Test func noTwoHoldersOverlapWhileServersFail() async throws {
        check(try await SafetyRun(seed: FaultSettings.seed, cycles: FaultSettings.cycles).run())
    }

    /// The same run, as many cycles, with masters that listen with TLS only (`rediss://`, the test
    /// certificates): every contender (tasks, processes, cronlock) connects and reconnects through
    /// TLS handshakes while the servers are stopped, killed, slowed and erroring.
    @Test func noTwoHoldersOverlapWhileTLSServersFail() async throws {
        let certificates = try TestCertificates.shared()
        check(try await SafetyRun(seed: FaultSettings.seed, cycles: FaultSettings.cycles, certificates: certificates).run())
    }

    private func check(_ report: SafetyReport) {
        print(report)
        #expect(report.finishedInTime, "only \(report.cycles) of \(report.cyclesRequested) cycles in the time limit (seed \(report.seed))")
        #expect(report.overlaps.isEmpty, "seed \(report.seed): \(report.overlaps.prefix(3))")
        #expect(report.enteredExpired == 0, "seed \(report.seed)")
        #expect(report.staleKeys.isEmpty, "seed \(report.seed): stale keys \(report.staleKeys.prefix(5))")
        #expect(report.after.descriptorsBesideRunLoops <= report.before.descriptorsBesideRunLoops,
                "seed \(report.seed): \(report.before) → \(report.after), new: \(report.after.newDescriptors(since: report.before))")
        for kind in FaultKind.schedule(immediateRestart: false) {
            #expect(report.faults[kind, default: 0] > 0, "seed \(report.seed): no \(kind.rawValue) was injected")
        }
        #expect(report.clientPauses > 0, "seed \(report.seed): no cronlock client was paused past its TTL")
        #expect(report.cronlockExits[0, default: 0] > 0, "cronlock never ran its command")
        // Ran, held elsewhere, no quorum, lock lost: anything else (a crash, a hang) is a finding.
        #expect(Set(report.cronlockExits.keys).isSubset(of: CronlockContender.expectedExits),
                "cronlock exits: \(report.cronlockExits); \(report.cronlockUnexpected)")
        #expect(Set(report.tally.acquireFailures.keys).isSubset(of: ["no quorum"]), "\(report.tally.acquireFailures)")
        #expect(Set(report.tally.releaseFailures.keys).isSubset(of: ["no quorum", "not held"]), "\(report.tally.releaseFailures)")
    }
}
