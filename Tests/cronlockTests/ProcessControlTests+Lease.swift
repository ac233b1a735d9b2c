import CronlockCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The guard's hold on the command's whole tree: descendants that left the process group, and the
/// lease deadline it enforces on its own.
extension ProcessControlTests {
    @Test func stopReachesADescendantThatLeftTheGroup() async throws {
        let directory = try Scratch()
        let command = try RunningCommand.start(JobTree.command(directory), environment: environment)
        let pids = try await JobTree.pids(directory)
        #expect(pids.allSatisfy { !isGone($0) })
        _ = await command.stop(grace: .seconds(5))
        for pid in pids { #expect(isGone(pid), "\(pid) is gone, not even a zombie") }
    }

    @Test func waitForExitWaitsForADescendantThatLeftTheGroup() async throws {
        let directory = try Scratch()
        let output = directory.file("done")
        let clock = ContinuousClock()
        let start = clock.now
        let command = try RunningCommand.start(
            ["sh", "-c", "setsid sh -c 'sleep 0.5; echo done > \(output)' & exit 0"], environment: environment)
        #expect(await command.waitForExit() == .exited(0))
        #expect(FileManager.default.fileExists(atPath: output), "the detached descendant ran to its end first")
        #expect(clock.now - start >= .milliseconds(400))
    }

    @Test func theGuardKillsTheWholeTreeAtTheLeaseDeadline() async throws {
        let directory = try Scratch()
        let start = ContinuousClock.now
        let lease = RunningCommand.Lease(deadline: start + .milliseconds(1500), margin: .milliseconds(100))
        let command = try RunningCommand.start(JobTree.command(directory), environment: environment, lease: lease)
        let pids = try await JobTree.pids(directory)
        #expect(await command.waitForExit() == .signaled(SIGKILL))
        #expect(ContinuousClock.now >= lease.deadline, "not before the deadline")
        #expect(command.leaseExpired)
        for pid in pids { #expect(isGone(pid), "\(pid) is gone, not even a zombie") }
    }

    @Test func anExtendedLeaseKeepsTheCommandRunning() async throws {
        let start = ContinuousClock.now
        let lease = RunningCommand.Lease(deadline: start + .milliseconds(400), margin: .milliseconds(50))
        let command = try RunningCommand.start(["sleep", "1.2"], environment: environment, lease: lease)
        command.extendLease(until: start + .seconds(60))
        #expect(await command.waitForExit() == .exited(0))
        #expect(!command.leaseExpired)
    }

    @Test func aCommandEndingBeforeItsDeadlineIsNotReportedAsExpired() async throws {
        let lease = RunningCommand.Lease(deadline: .now + .seconds(60), margin: .milliseconds(50))
        let command = try RunningCommand.start(["true"], environment: environment, lease: lease)
        #expect(await command.waitForExit() == .exited(0))
        #expect(!command.leaseExpired)
    }

    @Test func aLeaseWithLessThanItsMarginLeftIsNotStarted() async throws {
        let directory = try Scratch()
        let lease = RunningCommand.Lease(deadline: .now + .milliseconds(20), margin: .seconds(1))
        #expect(throws: SpawnFailure.self) {
            _ = try RunningCommand.start(["touch", directory.file("ran")], environment: environment, lease: lease)
        }
        do {
            _ = try RunningCommand.start(["touch", directory.file("ran")], environment: environment, lease: lease)
        } catch {
            #expect(error.kind == .leaseTooShort)
            #expect(error.exitCode == 79)
        }
        #expect(!directory.exists("ran"))
    }
}
