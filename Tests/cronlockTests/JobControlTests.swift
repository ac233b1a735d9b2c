import Foundation
import RedisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
import TestLoad
#endif

@Suite("cronlock job control: pause, stop, history, notify, watch, ACLs", needsRedis, .load(.timed))
struct JobControlTests {
    // MARK: Pause and maintenance

    @Test func aPausedJobSkipsWithExitZeroUntilResumed() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let paused = try await cronlock(cluster, ["pause", "--key", key, "--reason", "db upgrade"])
        #expect(paused.code == 0 && paused.stdout.contains("paused job \(key)"), "\(paused)")

        let quiet = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("ran")])
        #expect(quiet.code == 0 && quiet.stderr.isEmpty, "a paused run skips with exit 0 and says nothing: \(quiet)")
        let told = try await cronlock(cluster, ["--key", key, "--log-level", "info", "--", "touch", scratch.file("ran")])
        #expect(told.code == 0 && told.stderr.contains("paused (job \(key)) by") && told.stderr.contains("db upgrade"), "\(told)")
        #expect(!scratch.exists("ran"))

        let resumed = try await cronlock(cluster, ["resume", "--key", key])
        #expect(resumed.code == 0 && resumed.stdout.contains("resumed job \(key)"), "\(resumed)")
        let ran = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("ran")])
        #expect(ran.code == 0 && scratch.exists("ran"), "\(ran)")
        let again = try await cronlock(cluster, ["resume", "--key", key])
        #expect(again.code == 0 && again.stdout.contains("was not paused"), "\(again)")
    }

    @Test func aPauseWithForExpiresByItself() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // Long enough for the next process to start on a loaded machine, short enough to wait out.
        let pause = Duration.seconds(3).scaled
        #expect(try await cronlock(cluster, ["pause", "--key", key, "--for", pause.argument]).code == 0)
        _ = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("early")])
        #expect(!scratch.exists("early"))
        let runs = await eventually(within: pause + Duration.seconds(7).scaled) {
            (try? await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("later")]))?.code == 0
                && scratch.exists("later")
        }
        #expect(runs, "the job runs again once --for has passed")
        for server in cluster.servers { #expect(try await server.keys("cronlock:_jc:*pause*").isEmpty) }
    }

    @Test func groupAndGlobalPauseReachEveryJobInThem() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let (first, second) = (uniqueKey() + "-a", uniqueKey() + "-b")
        let scratch = try Scratch()
        func run(_ key: String, group: String, marker: String) async throws -> Bool {
            let result = try await cronlock(cluster, ["--key", key, "--group", group, "--min-hold", "0s", "--", "touch", scratch.file(marker)])
            #expect(result.code == 0, "\(result)")
            return scratch.exists(marker)
        }
        #expect(try await cronlock(cluster, ["pause", "--group", "nightly"]).code == 0)
        #expect(try await run(first, group: "nightly", marker: "a1") == false, "its group is paused")
        #expect(try await run(second, group: "hourly", marker: "b1") == true, "another group runs")
        #expect(try await cronlock(cluster, ["resume", "--group", "nightly"]).code == 0)
        #expect(try await run(first, group: "nightly", marker: "a2") == true)

        #expect(try await cronlock(cluster, ["pause", "--all", "--reason", "maintenance"]).code == 0)
        #expect(try await run(first, group: "nightly", marker: "a3") == false)
        #expect(try await run(second, group: "hourly", marker: "b3") == false)
        let jobs = try await cronlock(cluster, ["jobs", "--json"])
        let listed = try jsonArray(jobs.stdout)
        #expect(listed.count == 2 && listed.allSatisfy { ($0["paused"] as? [String: Any])?["scope"] as? String == "all" }, "\(jobs)")
        #expect(try await cronlock(cluster, ["resume", "--all"]).code == 0)
        #expect(try await run(second, group: "hourly", marker: "b4") == true)
    }

    @Test func aPauseOnAMinorityNeitherSkipsNorHidesAMissingQuorum() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // A pause that reached one master only (the others were down when it was written).
        try await cluster.servers[0].command(["HSET", "cronlock:_jc:default:pause:\(key)", "by", "ana@ops-1", "reason", "partial"])
        let ran = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("ran")])
        #expect(ran.code == 0 && scratch.exists("ran"), "a majority grants: the minority's pause does not count: \(ran)")

        cluster.servers[1].stop()
        let refused = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("again")])
        #expect(refused.code == 69, "one pause and one dead master are no quorum, not a pause: \(refused)")
        #expect(refused.stderr.contains("only 1 of 3 servers hold a pause") && refused.stderr.contains("127.0.0.1:\(cluster.servers[1].port)"),
                "\(refused)")
        #expect(!scratch.exists("again"))
    }

    // MARK: Remote stop

    @Test func stopFromAnotherProcessEndsTheWholeGroupAndRecordsWhoAskedAndWhy() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // The command and two grandchildren, all in the command's process group.
        let script = "sleep 60 & sleep 60 & echo $$ > \(scratch.file("group.tmp")); mv \(scratch.file("group.tmp")) \(scratch.file("group")); wait"
        let run = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--", "sh", "-c", script])
        try await scratch.waitFor("group")
        let group = try #require(Int32(scratch.read("group").trimmingCharacters(in: .whitespacesAndNewlines)))

        let start = ContinuousClock.now
        let stop = try await cronlock(cluster, ["stop", "--key", key, "--reason", "bad deploy"])
        let gone = await eventually(within: Duration.seconds(2).scaled) { kill(-group, 0) != 0 }
        let elapsed = ContinuousClock.now - start
        #expect(stop.code == 0 && stop.stdout.contains("stopped \(key)"), "\(stop)")
        #expect(gone, "the command and its grandchildren are gone")
        #expect(elapsed < Duration.seconds(2).scaled, "stopped in \(elapsed) (target 1 s; tolerance for a loaded machine)")
        let result = try await run.finish()
        #expect(result.code == 80 && result.stderr.contains("stopped by") && result.stderr.contains("bad deploy"), "\(result)")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0, "the lock is free")

        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 1 && runs.first?["outcome"] as? String == "stopped" && (runs.first?["stopped_by"] as? String)?.contains("@") == true,
                "\(runs)")
        #expect(runs.first?["stop_reason"] as? String == "bad deploy", "the reason is in the run's history: \(runs)")
        let text = try await cronlock(cluster, ["history", "--key", key])
        #expect(text.stdout.contains("stopped by ") && text.stdout.hasSuffix(": bad deploy\n"), "\(text)")
        let notRunning = try await cronlock(cluster, ["stop", "--key", key])
        #expect(notRunning.code == 1 && notRunning.stderr.contains("not running"), "\(notRunning)")
    }

    @Test func stopWaitsOnlyAsLongAsItsWaitForARunThatTakesLongerToEnd() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // Ignores SIGTERM; only SIGKILL, 5 s after it, ends it.
        let run = try await startRunning(cluster, ["--key", key, "--kill-after", "5s"],
                                         "trap '' TERM; touch \(scratch.file("up")); while true; do sleep 0.05; done", until: "up", in: scratch)
        let start = ContinuousClock.now
        let stop = try await cronlock(cluster, ["stop", "--key", key, "--wait", "300ms"])
        let elapsed = ContinuousClock.now - start
        #expect(stop.code == 75 && stop.stderr.contains("had not ended within --wait"), "\(stop)")
        #expect(elapsed < .seconds(4), "stop waited \(elapsed), not its --wait of 300ms")
        #expect(try await run.finish().code == 80)
    }

    @Test func aRunWhoseHostStoppedPastItsTTLShowsAsUnknownAndStopSaysSoAtOnce() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let run = try await startRunning(cluster, ["--key", key, "--ttl", "1s"], "touch \(scratch.file("up")); sleep 60", until: "up", in: scratch)
        try await waitUntilHeld(key, on: cluster)
        let live = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(live.first?["outcome"] as? String == "running", "\(live)")

        // A dead host, as the masters see it: cronlock stops renewing, and its lock expires.
        run.signal(SIGSTOP)
        defer { run.signal(SIGKILL) }
        let expired = await eventually(within: .seconds(10)) { (try? await cluster.holders(of: "cronlock:\(key)")) == 0 }
        #expect(expired)
        let history = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(history.count == 1 && history.first?["outcome"] as? String == "unknown", "\(history)")
        let jobs = try jsonArray(try await cronlock(cluster, ["jobs", "--json"]).stdout).filter { $0["job"] as? String == key }
        #expect(jobs.first?["state"] as? String == "unknown" && jobs.first?["run_id"] as? String == history.first?["run_id"] as? String
                && jobs.first?["running_on"] is NSNull, "\(jobs)")
        let text = try await cronlock(cluster, ["jobs"])
        #expect(text.stdout.contains("\(key)  [default]  unknown on ") && text.stdout.contains("host presumed dead"), "\(text)")

        let start = ContinuousClock.now
        let stop = try await cronlock(cluster, ["stop", "--key", key])
        #expect(stop.code == 1 && stop.stderr.contains("host presumed dead"), "\(stop)")
        #expect(ContinuousClock.now - start < .seconds(5), "said at once, without waiting for --wait (15 s)")

        run.signal(SIGKILL)
        _ = try await run.finish(within: .seconds(10))
    }

    // MARK: History

    @Test func historyShowsEachRunOnceWithOneMasterDownDuringSomeRuns() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        func run(_ code: Int) async throws {
            let result = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "sh", "-c", "exit \(code)"])
            #expect(result.code == Int32(code), "\(result)")
        }
        try await run(0)
        cluster.servers[2].stop()
        try await run(3)
        try await cluster.servers[2].restart()
        try await run(0)
        cluster.servers[0].stop()
        let result = try await cronlock(cluster, ["history", "--key", key, "--json"])
        #expect(result.code == 0, "two of three masters answer: \(result)")
        let runs = try jsonArray(result.stdout)
        #expect(runs.map { $0["outcome"] as? String } == ["ok", "failed", "ok"], "newest first, each once: \(runs)")
        #expect(runs.map { $0["exit_code"] as? Int } == [0, 3, 0])
        #expect(Set(runs.compactMap { $0["run_id"] as? String }).count == 3)
        let text = try await cronlock(cluster, ["history", "--key", key])
        #expect(text.stdout.split(separator: "\n").count == 3 && text.stdout.contains("exit 3  failed"), "\(text)")
    }

    @Test func historyIsCappedPerJob() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        for _ in 0..<7 {
            let result = try await cronlock(cluster, ["--key", key, "--history-size", "3", "--min-hold", "0s", "--", "true"])
            #expect(result.code == 0, "\(result)")
        }
        for server in cluster.servers {
            #expect(try await server.command(["XLEN", "cronlock:_jc:default:history:\(key)"]) == .integer(6), "two events per run, three runs")
        }
        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 3 && runs.allSatisfy { $0["outcome"] as? String == "ok" }, "\(runs)")
    }

    // MARK: Degraded runs

    @Test func aRunWithoutEveryServerWarnsAndIsRecordedShownAndNotified() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let frozen = cluster.servers[2]
        let named = "127.0.0.1:\(frozen.port): timed out"
        frozen.pause()
        defer { frozen.resume() }
        let quiet = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "true"])
        #expect(quiet.code == 0 && quiet.stderr.isEmpty, "at the default level cron mails nothing: \(quiet)")
        let told = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--log-level", "warning", "--notify-on", "degraded",
                                                "--notify", "echo \"$CRONLOCK_DEGRADED\" > \(scratch.file("notified"))", "--", "true"])
        #expect(told.code == 0, "\(told)")
        #expect(told.stderr.contains(" warning ") && told.stderr.contains("running without every server") && told.stderr.contains(named), "\(told)")
        #expect(scratch.read("notified").contains(named), "--notify-on degraded: \(scratch.read("notified"))")

        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 2, "\(runs)")
        for run in runs {
            let degraded = run["degraded"] as? [[String: Any]]
            #expect(degraded?.count == 1 && (degraded?.first?["server"] as? String)?.contains("\(frozen.port)") == true
                    && degraded?.first?["reason"] as? String == "timed out", "\(run)")
        }
        let text = try await cronlock(cluster, ["history", "--key", key])
        #expect(text.stdout.split(separator: "\n").allSatisfy { $0.contains("degraded: ") && $0.contains(named) }, "\(text)")
        let jobs = try await cronlock(cluster, ["jobs"])
        #expect(jobs.stdout.contains("degraded (") && jobs.stdout.contains(named), "\(jobs)")
        let status = try await cronlock(cluster, ["status", "--key", key])
        #expect(status.code == 0 && status.stdout.contains("degraded: 1 of 3 servers failing"), "\(status)")
        let statusJSON = try JSONSerialization.jsonObject(with: Data(try await cronlock(cluster, ["status", "--key", key, "--json"]).stdout.utf8))
        #expect(((statusJSON as? [String: Any])?["degraded"] as? [Any])?.count == 1, "\(statusJSON)")

        frozen.resume()
        let healthy = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--log-level", "warning", "--notify-on", "degraded",
                                                   "--notify", "touch \(scratch.file("again"))", "--", "true"])
        #expect(healthy.code == 0 && healthy.stderr.isEmpty && !scratch.exists("again"), "\(healthy)")
        let last = try jsonArray(try await cronlock(cluster, ["jobs", "--json"]).stdout).first?["last"] as? [String: Any]
        #expect((last?["degraded"] as? [Any])?.isEmpty == true, "a healthy run clears it: \(String(describing: last))")

        frozen.stop()
        let refused = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--log-level", "warning", "--", "true"])
        #expect(refused.code == 0 && refused.stderr.contains("127.0.0.1:\(frozen.port): connection failed"), "nothing listening: \(refused)")
    }

    // MARK: Output, failure detection, notify

    @Test func outputTailIsRecordedAndAFailPatternFailsARunThatExitedZero() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let result = try await cronlock(cluster, [
            "--key", key, "--min-hold", "0s", "--record-output", "20", "--fail-pattern", "ERROR: .*full",
            "--", "sh", "-c", "echo starting; echo 'ERROR: disk full' >&2",
        ])
        #expect(result.code == 81 && result.stderr.contains("matched --fail-pattern"), "\(result)")
        #expect(result.stdout == "starting\n" && result.stderr.hasPrefix("ERROR: disk full\n"), "output still passes through: \(result)")
        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.first?["outcome"] as? String == "failed")
        #expect(runs.first?["exit_code"] as? Int == 81)
        // stdout and stderr are separate pipes, so their order in the tail is the order they were read.
        let tails = ["starting\nERROR: disk full\n", "ERROR: disk full\nstarting\n"].map { String($0.utf8.suffix(20))! }
        #expect(tails.contains(runs.first?["output"] as? String ?? ""), "the last 20 bytes: \(runs)")

        let clean = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--fail-pattern", "ERROR", "--", "echo", "fine"])
        #expect(clean.code == 0 && clean.stdout == "fine\n", "\(clean)")
    }

    @Test func notifyGetsTheRunsFactsAndAHangingNotifyIsCut() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let notify = "env | grep ^CRONLOCK_ | sort > \(scratch.file("env"))"
        let result = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--record-output", "100", "--notify", notify,
                                                  "--", "sh", "-c", "echo hi; exit 4"])
        #expect(result.code == 4, "\(result)")
        let environment = scratch.read("env")
        for expected in ["CRONLOCK_OUTCOME=failed", "CRONLOCK_EXIT_CODE=4", "CRONLOCK_JOB=\(key)", "CRONLOCK_KEY=cronlock:\(key)",
                         "CRONLOCK_OUTPUT=hi", "CRONLOCK_RUN_ID=", "CRONLOCK_HOST=", "CRONLOCK_DURATION_MS="] {
            #expect(environment.contains(expected), "\(expected) in \(environment)")
        }

        let quiet = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--notify", "touch \(scratch.file("notified"))", "--", "true"])
        #expect(quiet.code == 0 && !scratch.exists("notified"), "--notify-on failure is the default")

        let start = ContinuousClock.now
        let hanging = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--notify", "sleep 60", "--notify-on", "always",
                                                   "--notify-timeout", "500ms", "--", "true"])
        #expect(hanging.code == 0 && hanging.stderr.contains("timeout"), "the run's exit code is untouched: \(hanging)")
        #expect(ContinuousClock.now - start < .seconds(10))
        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 3, "a hanging notify loses no record: \(runs)")
    }

    /// A job (or notify hook) that prints its environment must not put cronlock's password into
    /// the recorded output or anywhere else: CRONLOCK_PASSWORD, and CRONLOCK_SERVERS when its URLs
    /// carry one, stay with cronlock.
    @Test func secretsStayOutOfTheJobsAndTheNotifyHooksEnvironment() async throws {
        let password = "env-secret-\(UUID().uuidString.prefix(8))"
        let cluster = try await RedisCluster.start(count: 3, password: password)
        let key = uniqueKey()
        let scratch = try Scratch()
        let withPassword = ["CRONLOCK_PASSWORD": password]
        let inURLs = ["CRONLOCK_SERVERS": cluster.servers.map(\.urlWithPassword).joined(separator: ",")]
        for (arguments, environment) in [(serverArguments(cluster), withPassword), ([], inURLs)] {
            let result = try await CronlockProcess.run(arguments + [
                "--key", key, "--min-hold", "0s", "--record-output", "64k", "--notify", "env > \(scratch.file("notify-env"))",
                "--notify-on", "always", "--", "env"], environment: environment)
            #expect(result.code == 0, "\(result)")
            #expect(result.stdout.contains("CRONLOCK_RUN_ID="), "the job printed its environment: \(result)")
            #expect(!result.stdout.contains(password) && !result.stderr.contains(password), "\(environment.keys): \(result)")
            let notified = scratch.read("notify-env")
            #expect(notified.contains("CRONLOCK_OUTCOME=ok") && !notified.contains(password), "\(environment.keys): \(notified)")
        }
        let history = try await CronlockProcess.run(["history"] + serverArguments(cluster) + ["--key", key, "--json"],
                                                    environment: withPassword)
        let runs = try jsonArray(history.stdout)
        #expect(runs.count == 2 && runs.allSatisfy { ($0["output"] as? String ?? "").contains("CRONLOCK_KEY=") }, "\(runs)")
        #expect(!history.stdout.contains(password), "\(history)")
    }

    @Test func aRunWhoseLockIsFoundGoneAtItsReleaseIsRecordedAsLost() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // The command waits for a flag; the keys go first, so only the release finds them gone.
        let run = try CronlockProcess(serverArguments(cluster) + [
            "--key", key, "--ttl", "30s", "--min-hold", "0s", "--", "sh", "-c",
            "touch \(scratch.file("running")); while [ ! -e \(scratch.file("go")) ]; do sleep 0.02; done"])
        #expect(await eventually { scratch.exists("running") })
        for server in cluster.servers { try await server.command(["DEL", "cronlock:\(key)"]) }
        _ = FileManager.default.createFile(atPath: scratch.file("go"), contents: nil)
        let result = try await run.finish(within: .seconds(10))
        #expect(result.code == 79, "\(result)")
        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 1)
        #expect(runs.first?["outcome"] as? String == "lost", "\(runs)")
        #expect(runs.first?["exit_code"] as? Int == 79, "\(runs)")
        let job = try await cluster.servers[0].command(["HGET", "cronlock:_jc:default:job:\(key)", "last_outcome"])
        #expect(job == .string("lost"))
        for server in cluster.servers {
            // Counted as ok by the release's finished event, then moved to lost (or lost from the start).
            let counts = try await server.command(["HMGET", "cronlock:_jc:default:job:\(key)", "runs:ok", "runs:lost"])
            #expect(counts == .array([.string("0"), .string("1")]) || counts == .array([.null, .string("1")]), "one run, lost: \(counts)")
        }
    }

    // MARK: Forget

    @Test func forgetRemovesAJobFromEveryMasterButNotWhileItRuns() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let (key, other) = (uniqueKey(), uniqueKey() + "-other")
        let scratch = try Scratch()
        #expect(try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "sh", "-c", "exit 3"]).code == 3)
        #expect(try await cronlock(cluster, ["--key", other, "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await cronlock(cluster, ["pause", "--key", key]).code == 0)
        let forgot = try await cronlock(cluster, ["forget", "--key", key])
        #expect(forgot.code == 0 && forgot.stdout == "forgot job \(key) (group default)\n", "\(forgot)")
        for server in cluster.servers {
            #expect(try await server.keys("cronlock:_jc:*\(key)*").isEmpty, "nothing of the job is left")
            #expect(try await server.command(["HEXISTS", "cronlock:_jc:@jobs", key]) == .integer(0))
        }
        let history = try await cronlock(cluster, ["history", "--key", key])
        #expect(history.code == 0 && history.stdout.contains("no runs of \(key) recorded"), "\(history)")
        let jobs = try await cronlock(cluster, ["jobs"])
        #expect(!jobs.stdout.contains(key + "  ") && jobs.stdout.contains(other), "\(jobs)")
        let again = try await cronlock(cluster, ["forget", "--key", key])
        #expect(again.code == 0 && again.stdout.contains("nothing recorded of job \(key)"), "\(again)")

        // While it runs: refused, and nothing of it removed on any master.
        let run = try await startRunning(cluster, ["--key", key, "--group", "nightly"],
                                         "touch \(scratch.file("up")); while [ ! -e \(scratch.file("go")) ]; do sleep 0.02; done", until: "up", in: scratch)
        try await waitUntilHeld(key, on: cluster)
        let refused = try await cronlock(cluster, ["forget", "--key", key])
        #expect(refused.code == 75 && refused.stderr.contains("job \(key) (group nightly) is running on ") && refused.stderr.contains("not forgotten"),
                "\(refused)")
        let byGroup = try await cronlock(cluster, ["forget", "--group", "nightly"])
        #expect(byGroup.code == 75, "\(byGroup)")
        for server in cluster.servers { #expect(try await server.command(["XLEN", "cronlock:_jc:nightly:history:\(key)"]) == .integer(1)) }
        _ = FileManager.default.createFile(atPath: scratch.file("go"), contents: nil)
        #expect(try await run.finish().code == 0)

        let group = try await cronlock(cluster, ["forget", "--group", "nightly"])
        #expect(group.code == 0 && group.stdout == "forgot job \(key) (group nightly)\n", "\(group)")
        #expect(try await cronlock(cluster, ["history", "--key", key]).stdout.contains("no runs of"))
        let none = try await cronlock(cluster, ["forget", "--group", "nightly"])
        #expect(none.code == 0 && none.stdout.contains("no jobs recorded in group nightly"), "\(none)")
        let unnamed = try await cronlock(cluster, ["forget"])
        #expect(unnamed.code == 64 && unnamed.stderr.contains("name what to forget"), "\(unnamed)")
    }

    // MARK: Events

    @Test func watchSeesStartedAndFinishedOnce() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let watch = try CronlockProcess(withServers(serverArguments(cluster), ["watch", "--json", "--count", "2"]))
        #expect(await subscribedEverywhere(cluster))
        #expect(try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "true"]).code == 0)
        let result = try await watch.finish(within: .seconds(10))
        let events = result.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.map { $0?["event"] as? String } == ["started", "finished"], "\(result)")
        #expect(events.allSatisfy { $0?["job"] as? String == key && $0?["key"] as? String == "cronlock:\(key)" })
    }

    @Test func everyCommandsJSONIsOneSchemaWithNumbersAndISOTimes() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let watch = try CronlockProcess(withServers(serverArguments(cluster), ["watch", "--json", "--count", "4"]))
        #expect(await eventually(within: .seconds(5)) {
            var all = true
            for server in cluster.servers where (try? await server.command(["PUBSUB", "NUMPAT"])) != .integer(1) { all = false }
            return all
        })
        let run = try CronlockProcess(serverArguments(cluster) + [
            "--key", key, "--min-hold", "0s", "--record-output", "100", "--notify-on", "always",
            "--notify", "env | grep ^CRONLOCK_ > \(scratch.file("env"))", "--", "sh", "-c",
            "echo hi; touch \(scratch.file("up")); while [ ! -e \(scratch.file("go")) ]; do sleep 0.02; done"])
        try await scratch.waitFor("up")
        let status = try jsonObject(try await cronlock(cluster, ["status", "--key", key, "--json"]).stdout)
        _ = FileManager.default.createFile(atPath: scratch.file("go"), contents: nil)
        #expect(try await run.finish().code == 0)
        #expect(try await cronlock(cluster, ["pause", "--key", key, "--for", "1m", "--reason", "r"]).code == 0)
        #expect(try await cronlock(cluster, ["resume", "--key", key]).code == 0)
        let watched = try await watch.finish(within: .seconds(10))
        let events = try watched.stdout.split(separator: "\n").map { try jsonObject(String($0)) }
        let history = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        let jobs = try jsonArray(try await cronlock(cluster, ["jobs", "--json"]).stdout)

        // watch: every event has its kind and an ISO time; numbers are numbers; no `\/` escapes.
        #expect(events.map { $0["event"] as? String } == ["started", "finished", "paused", "resumed"], "\(watched)")
        #expect(!watched.stdout.contains("\\/"), "\(watched)")
        for event in events {
            #expect(isISOTime(event["at"]) && event["job"] as? String == key && event["key"] as? String == "cronlock:\(key)", "\(event)")
        }
        let (started, finished, paused) = (events[0], events[1], events[2])
        #expect(started["pid"] as? Int == Int(run.pid) && started["run_id"] is String && started["group"] as? String == "default", "\(started)")
        #expect(finished["exit_code"] as? Int == 0 && finished["duration_ms"] is Int && isISOTime(finished["started_at"])
                && (finished["degraded"] as? [Any])?.isEmpty == true && finished["outcome"] as? String == "ok", "\(finished)")
        #expect(paused["scope"] as? String == "job" && isISOTime(paused["until"]) && paused["reason"] as? String == "r", "\(paused)")

        // history: the same names and types as the events.
        let entry = try #require(history.first)
        for name in ["job", "key", "group", "run_id", "host", "command", "outcome"] { #expect(entry[name] is String, "\(name): \(entry)") }
        for name in ["pid", "exit_code", "duration_ms"] { #expect(entry[name] is Int, "\(name): \(entry)") }
        #expect(isISOTime(entry["started_at"]) && isISOTime(entry["finished_at"]) && entry["degraded"] is [Any], "\(entry)")
        #expect(entry["run_id"] as? String == started["run_id"] as? String && entry["pid"] as? Int == Int(run.pid))

        // jobs: the last run by the same names.
        let job = try #require(jobs.first { $0["job"] as? String == key })
        let last = try #require(job["last"] as? [String: Any])
        #expect(job["key"] as? String == "cronlock:\(key)" && job["group"] as? String == "default" && job["skips"] is [String: Any], "\(job)")
        #expect(last["run_id"] as? String == entry["run_id"] as? String && last["exit_code"] as? Int == 0 && last["duration_ms"] is Int
                && isISOTime(last["finished_at"]) && last["degraded"] is [Any], "\(last)")

        // status: the holder's pid is a number, its start an ISO time.
        let holder = try #require(status["holder"] as? [String: Any], "\(status)")
        #expect(holder["pid"] as? Int == Int(run.pid) && isISOTime(holder["started_at"]) && holder["host"] is String, "\(holder)")
        #expect(status["job"] as? String == key && status["key"] as? String == "cronlock:\(key)" && status["degraded"] is [Any], "\(status)")
        #expect((status["servers"] as? [[String: Any]])?.allSatisfy { $0["ttl_ms"] is Int } == true, "\(status)")

        // The notify environment: CRONLOCK_ and the JSON name in capitals, with the same values.
        let environment = Dictionary(scratch.read("env").split(separator: "\n").compactMap { line -> (String, String)? in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }) { first, _ in first }
        for name in ["job", "key", "group", "run_id", "host", "pid", "outcome", "exit_code", "duration_ms", "started_at", "finished_at"] {
            #expect(environment["CRONLOCK_\(name.uppercased())"] == entry[name].map { "\($0)" }, "\(name): \(environment) against \(entry)")
        }
    }

    @Test func aHostThatLosesASplitVotePublishesNoStartedEvent() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let (loser, winner) = (uniqueKey() + "-lost", uniqueKey() + "-won")
        let watch = try CronlockProcess(withServers(serverArguments(cluster), ["watch", "--json", "--count", "2"]))
        #expect(await subscribedEverywhere(cluster))
        // Two other contenders hold one master each: every round of ours wins only the third, a
        // split vote, retried and then given up (its `started` was written there, then taken back).
        try await cluster.servers[0].command(["SET", "cronlock:\(loser)", "contender-a", "PX", "60000"])
        try await cluster.servers[1].command(["SET", "cronlock:\(loser)", "contender-b", "PX", "60000"])
        let lost = try await cronlock(cluster, ["--key", loser, "--min-hold", "0s", "--", "true"])
        #expect(lost.code == 75, "\(lost)")
        #expect(try await cronlock(cluster, ["--key", winner, "--min-hold", "0s", "--", "true"]).code == 0)
        let result = try await watch.finish(within: .seconds(10))
        let events = result.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.map { $0?["job"] as? String } == [winner, winner], "no event of the run that never happened: \(result)")
        #expect(events.map { $0?["event"] as? String } == ["started", "finished"], "\(result)")
        let history = try await cronlock(cluster, ["history", "--key", loser])
        #expect(history.stdout.contains("no runs of"), "\(history)")
    }

    // MARK: Permissions

    @Test func anACLUserLimitedToItsGroupCannotPauseOrStopAnotherGroup() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "team-a", "on", ">secret-a", "~cronlock:_jc:alpha:*", "~cronlock:_jc:@jobs", "%R~cronlock:_jc:@all:*",
                                      "~cronlock:alpha-*", "&cronlock:_jc:alpha:*", "+@all"])
        }
        // The job belongs to group beta (an admin ran it once).
        #expect(try await cronlock(cluster, ["--key", key, "--group", "beta", "--min-hold", "0s", "--", "true"]).code == 0)
        let teamA = cluster.servers.map { "redis://team-a:secret-a@127.0.0.1:\($0.port)" }.flatMap { ["--server", $0] }
        let pause = try await CronlockProcess.run(withServers(teamA, ["pause", "--key", key]))
        #expect(pause.code == 77 && pause.stderr.contains("permission denied") && pause.stderr.contains("127.0.0.1:\(cluster.servers[0].port)")
                && pause.stderr.contains("NOPERM"), "\(pause)")
        let stop = try await CronlockProcess.run(withServers(teamA, ["stop", "--key", key]))
        #expect(stop.code == 77, "\(stop)")
        #expect(!stop.stderr.contains("secret-a") && !pause.stderr.contains("secret-a"), "no password in messages")
        let own = try await CronlockProcess.run(withServers(teamA, ["pause", "--key", "alpha-job", "--group", "alpha"]))
        #expect(own.code == 0, "its own group is fine: \(own)")
        let ownRun = try await CronlockProcess.run(teamA + ["--key", "alpha-job", "--group", "alpha", "--", "true"])
        #expect(ownRun.code == 0, "a paused job of its own group skips: \(ownRun)")
    }

    @Test func aUserWithoutChannelRightsStillRunsPausesAndRecordsJobs() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // Every key and command, but no pub/sub channel: each PUBLISH is denied (NOPERM).
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "no-events", "on", ">secret-n", "~*", "resetchannels", "+@all"])
        }
        let user = cluster.servers.map { "redis://no-events:secret-n@127.0.0.1:\($0.port)" }.flatMap { ["--server", $0] }
        let ran = try await CronlockProcess.run(user + ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("ran")])
        #expect(ran.code == 0 && scratch.exists("ran"), "the denied event does not undo the lock it rode with: \(ran)")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0, "the lock was released")
        let runs = try jsonArray(try await CronlockProcess.run(withServers(user, ["history", "--key", key, "--json"])).stdout)
        #expect(runs.map { $0["outcome"] as? String } == ["ok"], "started and finished are recorded: \(runs)")

        let paused = try await CronlockProcess.run(withServers(user, ["pause", "--key", key]))
        #expect(paused.code == 0, "\(paused)")
        let skipped = try await CronlockProcess.run(user + ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("again")])
        #expect(skipped.code == 0 && !scratch.exists("again"), "the pause stands: \(skipped)")
        let resumed = try await CronlockProcess.run(withServers(user, ["resume", "--key", key]))
        #expect(resumed.code == 0 && resumed.stdout.contains("resumed"), "\(resumed)")
    }

    @Test func theReadmesTeamACLCanWatchItsGroupAndADeniedWatchExits77() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        // The README's per-team ACL, word for word.
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "team-a", "on", ">secret-a", "~cronlock:_jc:alpha:*", "~cronlock:alpha-*", "~cronlock:_jc:@jobs",
                                      "%R~cronlock:_jc:@all:*", "&cronlock:_jc:alpha:*", "&redlock:released:cronlock:alpha-*", "+@all"])
        }
        let teamA = cluster.servers.map { "redis://team-a:secret-a@127.0.0.1:\($0.port)" }.flatMap { ["--server", $0] }
        let job = "alpha-\(uniqueKey())"
        let doctor = try await CronlockProcess.run(withServers(teamA, ["doctor", "--key", job, "--group", "alpha"]))
        #expect(doctor.stdout.split(separator: "\n").filter { $0.hasPrefix("ok  ") && $0.contains("channels: user team-a may publish and subscribe") }.count == 3,
                "the ACL grants every channel the team's jobs use: \(doctor)")
        let watch = try CronlockProcess(withServers(teamA, ["watch", "--group", "alpha", "--json", "--count", "2"]))
        #expect(await subscribedEverywhere(cluster), "subscribed with the team's own ACL")
        #expect(try await CronlockProcess.run(teamA + ["--key", job, "--group", "alpha", "--min-hold", "0s", "--", "true"]).code == 0)
        let result = try await watch.finish(within: .seconds(10))
        let events = result.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.map { $0?["event"] as? String } == ["started", "finished"] && events.allSatisfy { $0?["job"] as? String == job },
                "\(result)")

        let start = ContinuousClock.now
        let everything = try await CronlockProcess.run(withServers(teamA, ["watch"]), within: .seconds(20))
        #expect(everything.code == 77 && everything.stderr.contains("permission denied to watch") && everything.stderr.contains("NOPERM"),
                "every group's events are not the team's: \(everything)")
        #expect(!everything.stderr.contains("secret-a") && !everything.stderr.contains("retrying"), "\(everything)")
        #expect(ContinuousClock.now - start < .seconds(10), "not retried")
    }

    // MARK: Mutual exclusion and cost

    @Test func tenConcurrentHostsWithJobControlRunTheJobOnce() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let key = uniqueKey()
        let scratch = try Scratch()
        let hosts = try (0..<10).map { _ in
            try CronlockProcess(serverArguments(cluster) + ["--key", key, "--", "sh", "-c", "echo ran >> \(scratch.file("ran")); sleep 0.2"])
        }
        var codes: [Int32] = []
        for host in hosts { codes.append(try await host.finish().code) }
        #expect(scratch.read("ran") == "ran\n", "exactly one host ran")
        #expect(codes.sorted() == [0] + Array(repeating: 75, count: 9), "\(codes)")
        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 1)
    }

    @Test func aRunIsOneScriptPerMasterToAcquireAndOneToRelease() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        for server in cluster.servers { try await server.command(["CONFIG", "RESETSTAT"]) }
        #expect(try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await cluster.calls(of: "eval") == [2, 2, 2], "acquire and release, one EVAL each")
    }

    // MARK: Helpers

    /// Starts cronlock (`--min-hold 0s` and `options`) running `sh -c script` on `cluster`, and
    /// waits until the script has created `marker` in `scratch`.
    private func startRunning(_ cluster: RedisCluster, _ options: [String], _ script: String, until marker: String,
                              in scratch: Scratch) async throws -> CronlockProcess {
        let run = try CronlockProcess(serverArguments(cluster) + ["--min-hold", "0s"] + options + ["--", "sh", "-c", script])
        try await scratch.waitFor(marker)
        return run
    }

    /// Waits (up to 5 s) until one `watch` is subscribed on every master of `cluster`.
    private func subscribedEverywhere(_ cluster: RedisCluster) async -> Bool {
        await eventually(within: .seconds(5)) {
            var all = true
            for server in cluster.servers where (try? await server.command(["PUBSUB", "NUMPAT"])) != .integer(1) { all = false }
            return all
        }
    }

    private func jsonObject(_ text: String) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(parsed as? [String: Any], "not a JSON object: \(text)")
    }

    /// A string such as `2026-11-23T12:00:00.123Z`: ISO-8601, UTC, with milliseconds.
    private func isISOTime(_ value: Any?) -> Bool {
        guard let text = value as? String, let pattern = try? Regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$") else { return false }
        return text.wholeMatch(of: pattern) != nil
    }

}
