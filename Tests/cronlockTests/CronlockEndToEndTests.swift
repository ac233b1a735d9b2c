import Foundation
import RedisTestSupport
import Testing
import TestLoad

@Suite("cronlock end to end: the built binary against real servers", needsRedis, .load(.timed))
struct CronlockEndToEndTests {
    @Test func runsTheCommandSilentlyPassingItsExitCodeOutputAndKey() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let result = try await CronlockProcess.run(
            serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--", "sh", "-c", "echo out:$CRONLOCK_KEY; echo err >&2; exit 7"])
        #expect(result.code == 7, "\(result)")
        #expect(result.stdout == "out:cronlock:\(key)\n")
        #expect(result.stderr == "err\n", "cronlock adds nothing of its own on success")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0)
    }

    @Test func skipsSilentlyWithSeventyFiveWhenHeldOnAMajorityAndLeavesNoKeyElsewhere() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let key = uniqueKey()
        for server in cluster.servers.prefix(3) { try await server.command(["SET", "cronlock:\(key)", "other", "PX", "60000"]) }
        let scratch = try Scratch()
        let result = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--", "touch", scratch.file("ran")])
        #expect(result.code == 75, "\(result)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "a skip is silent: \(result)")
        #expect(!scratch.exists("ran"))
        for server in cluster.servers.suffix(2) { #expect(try await withoutFences(server.keys("cronlock:*")).isEmpty) }

        let custom = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "-E", "0", "--", "true"])
        #expect(custom.code == 0)
    }

    @Test func noQuorumExitsSixtyNineWithinBoundedTimeNamingEachServer() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let key = uniqueKey()
        cluster.servers.prefix(3).forEach { $0.pause() }
        defer { cluster.servers.prefix(3).forEach { $0.resume() } }
        let start = ContinuousClock.now
        let result = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--ttl", "2s", "--", "true"])
        #expect(result.code == 69, "\(result)")
        #expect(ContinuousClock.now - start < Duration.seconds(10).scaled)
        #expect(result.stderr.hasPrefix("cronlock: "))
        #expect(result.stderr.split(separator: "\n").count == 1, "one clear line")
        for server in cluster.servers.prefix(3) { #expect(result.stderr.contains("127.0.0.1:\(server.port)")) }
        for server in cluster.servers.suffix(2) { #expect(try await withoutFences(server.keys("cronlock:*")).isEmpty) }
    }

    @Test func tenConcurrentHostsRunTheCommandExactlyOnce() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let hosts = try (0..<10).map { _ in
            try CronlockProcess(serverArguments(cluster) + ["--key", key, "--", "sh", "-c", "echo ran >> \(scratch.file("ran")); sleep 0.3"])
        }
        var codes: [Int32] = []
        for host in hosts { codes.append(try await host.finish().code) }
        #expect(scratch.read("ran") == "ran\n", "exactly one host ran: \(codes)")
        #expect(codes.filter { $0 == 0 }.count == 1)
        #expect(codes.filter { $0 == 75 }.count == 9)
    }

    @Test func waitHandsOverWhenTheHolderFinishes() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let holder = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--", "sh", "-c", "sleep 1; echo first >> \(scratch.file("order"))"])
        try await waitUntilHeld(key, on: cluster)
        let standby = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--wait", "10s", "--", "sh", "-c", "echo second >> \(scratch.file("order"))"])
        #expect(try await holder.finish().code == 0)
        #expect(standby.code == 0, "\(standby)")
        #expect(scratch.read("order") == "first\nsecond\n")

        let impatient = try CronlockProcess(serverArguments(cluster) + ["--key", key + "-b", "--", "sleep", "2"])
        try await waitUntilHeld(key + "-b", on: cluster)
        let gaveUp = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key + "-b", "--wait", "500ms", "--", "true"])
        #expect(gaveUp.code == 75, "--wait ran out: \(gaveUp)")
        _ = try await impatient.finish()
    }

    @Test func renewalKeepsALongCommandLockedWithAShortTTL() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let run = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--ttl", "2s", "--min-hold", "0s", "--", "sleep", "10"])
        // From the moment it holds the lock: checkpoints 2.5 s apart, more than the TTL, while the
        // command runs.
        try await waitUntilHeld(key, on: cluster)
        let started = ContinuousClock.now
        for checkpoint in [1.0, 3.5, 6.0, 8.5] {
            try await Task.sleep(until: started + .seconds(checkpoint))
            #expect(try await cluster.holders(of: "cronlock:\(key)") == 3, "still held after \(checkpoint) s")
            let rival = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--", "true"])
            #expect(rival.code == 75)
        }
        #expect(try await run.finish().code == 0)
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0)
    }

    @Test func keysDeletedBehindItsBackExitSeventyNineAndKillTheCommandAndItsChildren() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let run = try CronlockProcess(serverArguments(cluster) + [
            "--key", key, "--ttl", "900ms", "--", "sh", "-c", "sleep 60 & echo $! > \(scratch.file("child")); echo $$ > \(scratch.file("shell")); wait"])
        #expect(await eventually { scratch.exists("child") && scratch.exists("shell") })
        for server in cluster.servers { try await server.command(["DEL", "cronlock:\(key)"]) }
        let result = try await run.finish(within: .seconds(10))
        #expect(result.code == 79, "\(result)")
        #expect(result.stderr.contains("lost"))
        for name in ["child", "shell"] {
            let pid = Int32(scratch.read(name).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(await eventually { !isRunning(pid) }, "\(name) \(pid) still running")
        }
    }

    @Test func timeoutStopsTheWholeProcessGroupWithOneTwentyFour() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let start = ContinuousClock.now
        let result = try await CronlockProcess.run(serverArguments(cluster) + [
            "--key", key, "--timeout", "500ms", "--kill-after", "500ms", "--min-hold", "0s", "--",
            "sh", "-c", "trap '' TERM; (trap '' TERM; sleep 60) & echo $! > \(scratch.file("grandchild")); sleep 60"])
        #expect(result.code == 124, "\(result)")
        #expect(ContinuousClock.now - start < Duration.seconds(5).scaled)
        #expect(result.stderr.contains("timeout"))
        let grandchild = Int32(scratch.read("grandchild").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(grandchild > 0 && !isRunning(grandchild), "the grandchild ignoring SIGTERM was SIGKILLed")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0)
    }

    @Test("TERM, INT and HUP are forwarded to the command; cronlock exits 128+n", arguments: [SIGTERM, SIGINT, SIGHUP])
    func signalsAreForwardedToTheCommand(signal: Int32) async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let run = try CronlockProcess(serverArguments(cluster) + [
            "--key", key, "--min-hold", "0s", "--", "sh", "-c",
            "trap 'echo got >> \(scratch.file("got")); exit 3' TERM INT HUP; echo up > \(scratch.file("up")); while true; do sleep 0.05; done"])
        #expect(await eventually { scratch.exists("up") })
        run.signal(signal)
        let result = try await run.finish(within: .seconds(10))
        #expect(result.code == 128 + signal, "\(result)")
        #expect(scratch.read("got") == "got\n")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0, "released after the command ended")
    }

    @Test func sigkillOfCronlockStopsTheCommand() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let run = try CronlockProcess(serverArguments(cluster) + [
            "--key", key, "--ttl", "2s", "--", "sh", "-c", "sleep 60 & echo $! > \(scratch.file("child")); echo $$ > \(scratch.file("shell")); wait"])
        #expect(await eventually { scratch.exists("child") && scratch.exists("shell") })
        run.signal(SIGKILL)
        _ = try? await run.finish(within: .seconds(5))
        for name in ["child", "shell"] {
            let pid = Int32(scratch.read(name).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(await eventually { !isRunning(pid) }, "\(name) \(pid) kept running without the lock")
        }
        #expect(await eventually(within: .seconds(4)) { (try? await cluster.holders(of: "cronlock:\(key)")) == 0 }, "the key expires within the TTL")
    }

    @Test func minHoldMakesASecondRunInsideTheWindowSkipAndOneAfterItRun() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        // Wide enough that the second process starts inside it on a loaded machine.
        let window = Duration.milliseconds(3000).scaled
        let first = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--min-hold", window.argument, "--", "true"])
        #expect(first.code == 0)
        let inside = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--min-hold", window.argument, "--", "true"])
        #expect(inside.code == 75, "inside the window: \(inside)")
        try await Task.sleep(for: window + Duration.milliseconds(200).scaled)
        let after = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--", "true"])
        #expect(after.code == 0, "after the window: \(after)")
    }

    @Test func commandNotFoundAndNotExecutableExitOneTwentySevenAndOneTwentySix() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let scratch = try Scratch()
        _ = FileManager.default.createFile(atPath: scratch.file("script"), contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644])
        let missing = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--", "no-such-command-xyz"])
        #expect(missing.code == 127, "\(missing)")
        #expect(missing.stderr.contains("no-such-command-xyz"))
        let notExecutable = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--", scratch.file("script")])
        #expect(notExecutable.code == 126, "\(notExecutable)")
    }

    @Test func aCommandThatFailsAtExecReleasesTheLockAtOnceDespiteMinHold() async throws {
        // Executable, but not a program (no #! line, not ELF): only exec itself can find out.
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        _ = FileManager.default.createFile(atPath: scratch.file("notaprogram"), contents: Data([0x00, 0x01, 0x02, 0x03]),
                                           attributes: [.posixPermissions: 0o755])
        let result = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--min-hold", "60s", "--", scratch.file("notaprogram")])
        #expect(result.code == 126, "\(result)")
        #expect(result.stderr.contains("notaprogram"), "\(result)")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0, "--min-hold is for runs whose command started")
    }

    @Test func commandKilledBySignalExitsOneTwentyEightPlusN() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let result = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--", "sh", "-c", "kill -KILL $$"])
        #expect(result.code == 137, "\(result)")
    }

    @Test func passwordComesFromTheEnvironmentOrAFileNeverTheCommandLine() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: "pw-from-elsewhere")
        let scratch = try Scratch()
        try "pw-from-elsewhere\n".write(toFile: scratch.file("password"), atomically: true, encoding: .utf8)
        let fromEnvironment = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--", "true"],
                                                           environment: ["CRONLOCK_PASSWORD": "pw-from-elsewhere"])
        #expect(fromEnvironment.code == 0, "\(fromEnvironment)")
        let fromFile = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--password-file", scratch.file("password"), "--", "true"])
        #expect(fromFile.code == 0, "\(fromFile)")
        let wrong = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--", "true"],
                                                 environment: ["CRONLOCK_PASSWORD": "wrong-pw-9"])
        #expect(wrong.code == 69, "\(wrong)")
        #expect(wrong.stderr.contains("authentication failed"))
        #expect(!wrong.stderr.contains("wrong-pw-9"))
    }

    @Test func serversComeFromTheEnvironmentWhenNoServerFlagIsGiven() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let result = try await CronlockProcess.run(["--key", key, "--prefix", "", "--min-hold", "5s", "--", "true"],
                                                  environment: ["CRONLOCK_SERVERS": cluster.urls.joined(separator: ", ")])
        #expect(result.code == 0, "\(result)")
        #expect(try await cluster.holders(of: key) == 3, "an empty prefix uses the bare key")
    }

    @Test func statusShowsHolderTTLAndVerdictAsTextAndJSON() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let holder = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--", "sh", "-c", "touch \(scratch.file("up")); sleep 2"])
        #expect(await eventually { scratch.exists("up") })
        let text = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key])
        #expect(text.code == 0, "\(text)")
        #expect(text.stdout.contains("held by a majority"))
        #expect(text.stdout.contains("pid=\(holder.pid)"))
        #expect(text.stdout.split(separator: "\n").filter { $0.contains("  held  ttl ") }.count == 3, "three servers listed as held: \(text.stdout)")
        let json = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["verdict"] as? String == "held")
        #expect((object?["holder"] as? [String: Any])?["pid"] as? Int == Int(holder.pid))
        #expect((object?["servers"] as? [[String: Any]])?.count == 3)
        _ = try await holder.finish()

        cluster.servers.prefix(2).forEach { $0.stop() }
        let unknown = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key])
        #expect(unknown.code == 69, "\(unknown)")
        #expect(unknown.stdout.contains("unknown"))
    }

    /// While the command runs, status says held; once it has finished and only --min-hold keeps
    /// the key, it says when the command finished and until when the key is kept.
    @Test func statusDuringMinHoldSaysTheCommandFinishedAndUntilWhenTheKeyIsKept() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let run = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "60s", "--", "sh", "-c",
                                                                  "touch \(scratch.file("running")); while [ ! -e \(scratch.file("go")) ]; do sleep 0.02; done"])
        try await scratch.waitFor("running")
        let running = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key])
        #expect(running.code == 0 && running.stdout.contains("held by a majority"), "\(running)")
        #expect(!running.stdout.contains("--min-hold"), "the command still runs: \(running)")

        _ = FileManager.default.createFile(atPath: scratch.file("go"), contents: nil)
        #expect(try await run.finish(within: .seconds(20)).code == 0)
        let kept = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key])
        let firstLine = kept.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(kept.code == 0 && firstLine.contains("held by a majority"), "\(kept)")
        #expect(firstLine.contains("; command finished at 20") && firstLine.contains("; key kept until 20")
                && firstLine.hasSuffix("Z (--min-hold)"), "\(kept)")
    }

    @Test func jsonLogsAtInfoAreOneObjectPerLine() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let result = try await CronlockProcess.run(serverArguments(cluster) + [
            "--key", uniqueKey(), "--log-level", "info", "--log-format", "json", "--min-hold", "0s", "--", "true"])
        #expect(result.code == 0, "\(result)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count >= 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["message"] != nil && object?["time"] != nil, "\(line)")
        }
        #expect(result.stderr.contains("acquired the lock"))
    }

    @Test func waitForeverWithEveryServerDownWarnsAndGivesUpAfterWaitUnreachable() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let servers = serverArguments(cluster)
        cluster.stopAll()
        let start = ContinuousClock.now
        let told = try await CronlockProcess.run(servers + ["--key", uniqueKey(), "--wait", "forever", "--wait-unreachable", "2s",
                                                            "--log-level", "warning", "--", "true"])
        let elapsed = ContinuousClock.now - start
        #expect(told.code == 69, "\(told)")
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(2) + Duration.seconds(4).scaled, "gave up after \(elapsed)")
        let lines = told.stderr.split(separator: "\n")
        let warnings = lines.filter { $0.contains(" warning ") && $0.contains("cannot reach a majority") }
        #expect(warnings.count == 1, "warned once (the next is due after 10 s): \(told)")
        #expect(warnings.first?.contains("127.0.0.1:\(cluster.servers[0].port)") == true, "the warning says what is wrong: \(told)")
        #expect(lines.last?.hasPrefix("cronlock: ") == true && lines.last?.contains("--wait-unreachable 2.0s") == true, "\(told)")

        let quiet = try await CronlockProcess.run(servers + ["--key", uniqueKey(), "--wait", "forever", "--wait-unreachable", "500ms", "--", "true"])
        #expect(quiet.code == 69 && quiet.stderr.split(separator: "\n").count == 1, "at the default level only the error line: \(quiet)")
    }

    @Test func withJSONLogsEveryStderrLineIsJSONIncludingTheFinalError() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let failures = [
            try await CronlockProcess.run(serverArguments(cluster) + [
                "--key", uniqueKey(), "--log-level", "info", "--log-format", "json", "--min-hold", "0s", "--timeout", "200ms", "--", "sleep", "10"]),
            try await CronlockProcess.run(["--log-format=json", "--key", "job", "--ttl", "1ms", "--", "true"]),
            try await CronlockProcess.run(["--server", "redis://127.0.0.1:1", "--log-format", "json", "--key", uniqueKey(), "--", "true"]),
        ]
        #expect(failures.map(\.code) == [124, 64, 69], "\(failures)")
        for result in failures {
            let lines = result.stderr.split(separator: "\n")
            #expect(!lines.isEmpty, "\(result)")
            for line in lines {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["message"] is String && object?["time"] is String && object?["level"] is String, "not a JSON log line: \(line)")
            }
            let last = try? JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any]
            #expect(last?["level"] as? String == "error", "\(result)")
        }
    }

    @Test func demoRunsItsTicksAndPasses() async throws {
        let result = try await CronlockProcess.run(["demo"], within: .seconds(60))
        #expect(result.code == 0, "\(result)")
        #expect(result.stdout.contains("tick 1:") && result.stdout.contains("tick 3:"))
        #expect(result.stdout.contains("demo passed"))
        #expect(result.stdout.contains("stopped the redis-servers by pid"))
    }

    @Test func demoOverTLSRunsItsTicksOverRedissAndPasses() async throws {
        let result = try await CronlockProcess.run(["demo", "--tls"], within: .seconds(60))
        #expect(result.code == 0, "\(result)")
        #expect(result.stdout.contains("with TLS only on rediss://127.0.0.1:"), "\(result)")
        #expect(result.stdout.contains("tick 1:") && result.stdout.contains("tick 3:"))
        #expect(result.stdout.contains("demo passed"))
    }

    @Test func aMissingCommandNeverTakesTheLock() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let result = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--", "/nonexistent/job.sh"])
        #expect(result.code == 127, "\(result)")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0, "a host that cannot run the job must not block the others")
        let rival = try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--", "true"])
        #expect(rival.code == 0)
    }

    @Test func aSignalWhileWaitingForTheLockExitsPromptlyAndLeavesNothing() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let holder = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--", "sleep", "\(3 * timeScale)"])
        try await waitUntilHeld(key, on: cluster)
        let waiter = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--wait", "forever", "--", "touch", scratch.file("ran")])
        // Waiting for sure: it has found the key held and subscribed to its release notices.
        try #require(await eventually(within: .seconds(10)) { (try? await cluster.subscribers(of: "redlock:released:cronlock:\(key)")) == 3 })
        waiter.signal(SIGTERM)
        let result = try await waiter.finish(within: .seconds(5))
        #expect(result.code == 143, "\(result)")
        #expect(!scratch.exists("ran"))
        _ = try await holder.finish()
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0)
    }

    @Test func ctrlZDoesNotStopCronlockWhileItHoldsTheLock() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let run = try CronlockProcess(serverArguments(cluster) + [
            "--key", key, "--ttl", Duration.milliseconds(900).scaled.argument, "--min-hold", "0s", "--", "sleep", "\(3 * timeScale)"])
        try await waitUntilHeld(key, on: cluster)
        run.signal(SIGTSTP)
        try await Task.sleep(for: Duration.milliseconds(1500).scaled)
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 3, "still renewing after SIGTSTP")
        #expect(try await run.finish().code == 0)
    }

    @Test func passwordFilesWithCRLFWorkAndEmptyOnesAreRejected() async throws {
        let cluster = try await RedisCluster.start(count: 1, password: "crlf-pw")
        let scratch = try Scratch()
        try "crlf-pw\r\n".write(toFile: scratch.file("crlf"), atomically: true, encoding: .utf8)
        try "\n".write(toFile: scratch.file("empty"), atomically: true, encoding: .utf8)
        let crlf = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--password-file", scratch.file("crlf"), "--", "true"])
        #expect(crlf.code == 0, "\(crlf)")
        let empty = try await CronlockProcess.run(serverArguments(cluster) + ["--key", uniqueKey(), "--password-file", scratch.file("empty"), "--", "true"])
        #expect(empty.code == 64, "\(empty)")
        #expect(empty.stderr.contains("empty"))
    }

    @Test func aPasswordFileOpenToGroupOrOthersIsWarnedAboutNamingTheFile() async throws {
        let cluster = try await RedisCluster.start(count: 1, password: "perm-pw")
        let scratch = try Scratch()
        for (mode, warned) in [(0o644, true), (0o640, true), (0o600, false), (0o400, false)] {
            let file = try scratch.write("password-\(String(mode, radix: 8))", "perm-pw\n", permissions: mode)
            let result = try await CronlockProcess.run(serverArguments(cluster) + [
                "--key", uniqueKey(), "--min-hold", "0s", "--password-file", file, "--log-level", "warning", "--", "true"])
            #expect(result.code == 0, "\(result)")
            let lines = result.stderr.split(separator: "\n")
            if warned {
                #expect(lines.count == 1 && lines[0].contains(" warning ") && lines[0].contains(file)
                        && lines[0].contains("0\(String(mode, radix: 8))"), "mode \(String(mode, radix: 8)): \(result)")
            } else {
                #expect(lines.isEmpty, "mode \(String(mode, radix: 8)): \(result)")
            }
        }
    }

    @Test func serverListFromTheEnvironmentToleratesSpacesAndEmptyEntriesAndAnEvenCountStaysSilent() async throws {
        let cluster = try await RedisCluster.start(count: 4)
        let list = " " + cluster.urls.joined(separator: " , ,") + ","
        let result = try await CronlockProcess.run(["--key", uniqueKey(), "--min-hold", "0s", "--", "true"],
                                                  environment: ["CRONLOCK_SERVERS": list, "CRONLOCK_PASSWORD": ""])
        #expect(result.code == 0, "\(result)")
        #expect(result.stderr.isEmpty, "no warning mail every minute for an even count: \(result)")
    }
}
