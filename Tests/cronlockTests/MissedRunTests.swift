@testable import CronlockCore
import Foundation
import RedisTestSupport
import Testing
import TestLoad

@Suite("--expect-every: health rules")
struct JobHealthTests {
    @Test func theGraceIsATenthAtLeastAMinuteOrTheIntervalWhenShorter() {
        #expect(JobHealth.grace(for: .seconds(2)) == .seconds(2))
        #expect(JobHealth.grace(for: .seconds(60)) == .seconds(60))
        #expect(JobHealth.grace(for: .seconds(3600)) == .seconds(360))
    }

    @Test(arguments: [
        // paused, last outcome, started ms ago, expect every (s), health
        (true, "failed", Int64(999_000), Int64(1), JobHealth.paused),
        (false, "ok", 1_000, 60, .ok),
        (false, "ok", 119_000, 60, .ok),
        (false, "ok", 121_000, 60, .late),
        (false, "failed", 121_000, 60, .late),
        (false, "failed", 1_000, 60, .failing),
        (false, "lost", 1_000, 0, .failing),
        (false, "ok", 999_000_000, 0, .ok),
    ] as [(Bool, String, Int64, Int64, JobHealth)])
    func healthOfAJob(_ row: (Bool, String, Int64, Int64, JobHealth)) {
        let (paused, outcome, ago, every, expected) = row
        let now: Int64 = 1_800_000_000_000
        #expect(JobHealth.of(paused: paused, lastOutcome: outcome, lastStartedAt: now - ago,
                             expectEvery: every == 0 ? nil : .seconds(every), now: now) == expected)
    }

    @Test func aJobThatExpectsRunsButNeverStartedIsLate() {
        #expect(JobHealth.of(paused: false, lastOutcome: nil, lastStartedAt: nil, expectEvery: .seconds(60), now: 0) == .late)
    }

    @Test func notifyOnChangeFiresOnOkToFailedAndBack() {
        let plan = NotifyPlan(command: "true", when: .change, timeout: .seconds(1))
        #expect(plan.applies(to: ending(.failed), previous: .ok) && plan.applies(to: ending(.ok), previous: .timeout) && plan.applies(to: ending(.lost), previous: nil))
        #expect(!plan.applies(to: ending(.ok), previous: .ok) && !plan.applies(to: ending(.failed), previous: .failed) && !plan.applies(to: ending(.ok), previous: nil))
    }

    private func ending(_ outcome: RunOutcome) -> RunRecord.Ending {
        RunRecord.Ending(outcome: outcome, exitCode: outcome == .ok ? 0 : 1, startedAt: 0, finishedAt: 0)
    }
}

@Suite("--expect-every and jobs --overdue: end to end", needsRedis, .load(.timed))
struct MissedRunTests {
    private func health(_ cluster: RedisCluster, _ key: String) async throws -> String? {
        let jobs = try jsonArray(try await cronlock(cluster, ["jobs", "--json"]).stdout)
        return jobs.first { $0["job"] as? String == key }?["health"] as? String
    }

    @Test func aJobThatStopsRunningBecomesLateAndOverdueSaysSo() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let (late, steady, failing) = (uniqueKey() + "-late", uniqueKey() + "-steady", uniqueKey() + "-failing")
        #expect(try await cronlock(cluster, ["--key", late, "--expect-every", "4s", "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await cronlock(cluster, ["--key", steady, "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await cronlock(cluster, ["--key", failing, "--min-hold", "0s", "--", "false"]).code == 1)
        #expect(try await health(cluster, late) == "ok")
        #expect(try await health(cluster, failing) == "failing")
        let fine = try await cronlock(cluster, ["jobs", "--overdue"])
        #expect(fine.code == 0 && fine.stdout == "no late jobs\n", "nothing is late yet: \(fine)")

        // 4 s plus a grace of 4 s without a run (a margin for a loaded machine before it).
        let becameLate = await eventually(within: .seconds(20)) { (try? await health(cluster, late)) == "late" }
        #expect(becameLate)
        let overdue = try await cronlock(cluster, ["jobs", "--overdue"])
        #expect(overdue.code == 1 && overdue.stdout.contains("  late  expected every 4s, last started "),
                "\(overdue)")
        #expect(!overdue.stdout.contains(steady) && !overdue.stdout.contains(failing), "only late jobs: \(overdue)")
        #expect(try await health(cluster, steady) == "ok", "a job without --expect-every is never late")

        #expect(try await cronlock(cluster, ["--key", late, "--expect-every", "4s", "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await health(cluster, late) == "ok", "a new run ends the lateness")
        #expect(try await cronlock(cluster, ["pause", "--key", late]).code == 0)
        #expect(try await health(cluster, late) == "paused")
    }

    @Test func notifyOnChangeFiresOnlyWhenTheOutcomeTurns() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let notify = ["--notify", "echo $CRONLOCK_OUTCOME >> \(scratch.file("notified"))", "--notify-on", "change"]
        for command in ["true", "true", "false", "false", "true"] {
            _ = try await cronlock(cluster, ["--key", key, "--min-hold", "0s"] + notify + ["--", command])
        }
        #expect(scratch.read("notified") == "failed\nok\n", "ok→failed and failed→ok only")
    }
}
