import Foundation
import RedisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
import TestLoad
#endif

/// The lease holds whatever happens to cronlock itself: killed with its whole process group,
/// killed alone, or stopped past its TTL. Real servers, real signals, the built binary.
@Suite("cronlock's guard holds the lease when cronlock dies or stops", needsRedis, .load(.timed))
struct LeaseEnforcementTests {
    /// How cronlock is killed while its job runs.
    enum Killer: String, CaseIterable, CustomTestStringConvertible {
        /// `timeout -s KILL 2 cronlock …`: GNU timeout SIGKILLs its whole process group.
        case timeoutKillsTheGroup
        /// `kill -9 -- -PGID` of cronlock's process group.
        case killOfTheProcessGroup
        /// `kill -9 PID` of cronlock alone.
        case killOfThePid

        var testDescription: String { rawValue }
    }

    /// The last timestamp a job wrote to `name`.
    private func lastBeat(_ scratch: Scratch, _ name: String) -> Int64 {
        scratch.read(name).split(separator: "\n").compactMap { Int64($0) }.last ?? 0
    }

    @Test(arguments: Killer.allCases)
    func nothingOfTheJobSurvivesCronlocksDeathAndTheNextHostRunsAlone(_ killer: Killer) async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let arguments = serverArguments(cluster) + ["--key", key, "--ttl", "2s", "--"] + JobTree.command(scratch, beat: "beat")
        let cronlock: CronlockProcess
        switch killer {
        case .timeoutKillsTheGroup:
            cronlock = try CronlockProcess(arguments, launcher: ["/usr/bin/timeout", "-s", "KILL", "2"])
        case .killOfTheProcessGroup:
            // setsid gives cronlock a process group of its own, away from the test runner's.
            cronlock = try CronlockProcess(arguments, launcher: ["/usr/bin/setsid"])
        case .killOfThePid:
            cronlock = try CronlockProcess(arguments)
        }
        let pids = try await JobTree.pids(scratch)
        switch killer {
        case .timeoutKillsTheGroup: break
        case .killOfTheProcessGroup: kill(-cronlock.pid, SIGKILL)
        case .killOfThePid: cronlock.signal(SIGKILL)
        }
        let result = try await cronlock.finish(within: .seconds(20))
        #expect(result.code == 137, "cronlock (or timeout) died by SIGKILL: \(result)")
        let died = ContinuousClock.now
        for pid in pids {
            #expect(await eventually(within: .seconds(1).scaled) { !isRunning(pid) }, "\(pid) of the job still runs")
        }
        #expect(ContinuousClock.now - died < Duration.seconds(1).scaled)
        let lastOfTheFirst = lastBeat(scratch, "beat")

        // The key goes by its TTL (or min-hold); then the next host runs, alone.
        #expect(await eventually(within: .seconds(10)) { (try? await cluster.holders(of: "cronlock:\(key)")) == 0 })
        let next = try await CronlockProcess.run(serverArguments(cluster) + [
            "--key", key, "--", "sh", "-c", "date +%s%N >> \(scratch.file("next"))"])
        #expect(next.code == 0, "\(next)")
        #expect(lastBeat(scratch, "beat") == lastOfTheFirst, "the first job wrote nothing more")
        #expect(lastOfTheFirst < lastBeat(scratch, "next"))
    }

    @Test func aStoppedCronlocksJobIsKilledByTheLocksDeadlineAndNeverOverlapsTheNextHolder() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let holder = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--ttl", "2s", "--min-hold", "0s", "--"] + JobTree.command(scratch, beat: "beat"))
        let pids = try await JobTree.pids(scratch)
        holder.signal(SIGSTOP)
        defer { holder.signal(SIGCONT) }

        let rival = try await CronlockProcess.run(serverArguments(cluster) + [
            "--key", key, "--wait", "30s", "--", "sh", "-c", "date +%s%N >> \(scratch.file("rival"))"])
        #expect(rival.code == 0, "the rival takes the lock once the stopped holder's has expired: \(rival)")
        for pid in pids { #expect(!isRunning(pid), "\(pid) of the stopped holder's job still runs") }
        let (holderLast, rivalStart) = (lastBeat(scratch, "beat"), lastBeat(scratch, "rival"))
        #expect(holderLast > 0 && holderLast < rivalStart, "no overlap: the holder's last beat \(holderLast), the rival's start \(rivalStart)")

        holder.signal(SIGCONT)
        let result = try await holder.finish(within: .seconds(20))
        #expect(result.code == 79, "\(result)")
        #expect(result.stderr.contains("lost"), "it says so: \(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "in one line: \(result)")
    }
}
