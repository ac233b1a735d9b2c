@testable import CronlockCore
import Foundation
import RedisTestSupport
import Testing
import TestLoad

#if canImport(Glibc)
import Glibc
#endif

@Suite("--retry: the policy")
struct RetryPolicyTests {
    @Test func onlyFailuresOfTheCommandItselfAreRetriedAndOnlyAsOftenAsAsked() {
        let policy = RetryPolicy(retries: 2, delay: .seconds(1))
        #expect(policy.retries(after: .failed, attempt: 1) && policy.retries(after: .timeout, attempt: 2))
        #expect(!policy.retries(after: .failed, attempt: 3), "two retries: three attempts in all")
        for outcome in [RunOutcome.ok, .lost, .stopped, .signal] { #expect(!policy.retries(after: outcome, attempt: 1), "\(outcome)") }
        #expect(!RetryPolicy(retries: 0, delay: .seconds(1)).retries(after: .failed, attempt: 1))
    }

    @Test func theDelayDoublesUpToItsCap() {
        let policy = RetryPolicy(retries: 50, delay: .seconds(3))
        #expect([2, 3, 4, 5].map(policy.delay(before:)) == [.seconds(3), .seconds(6), .seconds(12), .seconds(24)])
        #expect(policy.delay(before: 40) == RetryPolicy.maximumDelay)
        #expect(RetryPolicy(retries: 1, delay: .seconds(3600)).delay(before: 2) == RetryPolicy.maximumDelay)
    }

    @Test func attemptsSurviveTheirTripThroughTheHistory() {
        let attempts = [RunRecord.Attempt(outcome: .failed, exitCode: 3, durationMilliseconds: 12),
                        RunRecord.Attempt(outcome: .ok, exitCode: 0, durationMilliseconds: 7)]
        #expect(RunRecord.Attempt.parse(RunRecord.Attempt.text(attempts)) == attempts)
    }
}

@Suite("--retry: end to end", needsRedis, .load(.timed))
struct RetryTests {
    /// A script that fails until its `n`th call (counted in `counter`), then succeeds.
    private func succeeding(onCall n: Int, counter: String) -> [String] {
        ["sh", "-c", "n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(counter); [ $n -ge \(n) ] || exit 3"]
    }

    /// Starts cronlock (`--min-hold 0s` and `options`) on a command that fails until its
    /// `n`th call (counted in the scratch file `count`); returns once the first attempt ran.
    private func startFailing(_ cluster: RedisCluster, key: String, _ options: [String], succeedingOnCall n: Int,
                              in scratch: Scratch) async throws -> CronlockProcess {
        let run = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "0s"] + options + ["--"]
                                      + succeeding(onCall: n, counter: scratch.file("count")))
        try await scratch.waitFor("count")
        return run
    }

    @Test func aFailedRunIsRetriedUnderTheSameLockAndEveryAttemptIsInItsHistory() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let result = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--retry", "3", "--retry-delay", "100ms", "--"]
                                        + succeeding(onCall: 3, counter: scratch.file("count")))
        #expect(result.code == 0, "the third attempt succeeded: \(result)")
        #expect(scratch.read("count") == "3\n")
        let runs = try jsonArray(try await cronlock(cluster, ["history", "--key", key, "--json"]).stdout)
        #expect(runs.count == 1, "one run, three attempts: \(runs)")
        let attempts = try #require(runs.first?["attempts"] as? [[String: Any]], "\(runs)")
        #expect(attempts.map { $0["outcome"] as? String } == ["failed", "failed", "ok"], "\(attempts)")
        #expect(attempts.map { $0["exit_code"] as? Int } == [3, 3, 0], "\(attempts)")
        let text = try await cronlock(cluster, ["history", "--key", key])
        #expect(text.stdout.contains("attempts failed(3),failed(3),ok(0)"), "\(text)")
    }

    @Test func theExitCodeIsTheLastAttemptsAndTimeoutsAreRetriedToo() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let failing = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--retry", "2", "--retry-delay", "50ms", "--"]
                                         + succeeding(onCall: 99, counter: scratch.file("count")))
        #expect(failing.code == 3 && scratch.read("count") == "3\n", "three attempts, exit 3: \(failing)")

        let slow = try await cronlock(cluster, ["--key", key + "-slow", "--min-hold", "0s", "--retry", "1", "--retry-delay", "50ms",
                                                "--timeout", "1500ms", "--", "sh", "-c", "echo x >> \(scratch.file("slow")); sleep 30"])
        #expect(slow.code == 124 && scratch.read("slow") == "x\nx\n", "a timeout is retried, each attempt has its own --timeout: \(slow)")
    }

    @Test func theLockIsHeldAndRenewedWhileWaitingToRetry() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        // The wait (5 s) is far longer than the TTL (600ms): only renewals keep the lock.
        let run = try await startFailing(cluster, key: key, ["--ttl", "600ms", "--retry", "1", "--retry-delay", "5s"], succeedingOnCall: 2, in: scratch)
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await cluster.holders(of: "cronlock:\(key)") == cluster.servers.count, "held between attempts")
        let other = try await cronlock(cluster, ["--key", key, "--min-hold", "0s", "--", "touch", scratch.file("other")])
        #expect(other.code == 75 && !scratch.exists("other"), "no other host runs the job between attempts: \(other)")
        let result = try await run.finish()
        #expect(result.code == 0 && scratch.read("count") == "2\n", "\(result)")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0)
    }

    /// Starts cronlock with `--retry 5` on a command that counts its attempts in `name` and then
    /// sleeps; returns once the first attempt runs.
    private func startRetrying(_ cluster: RedisCluster, key: String, counting name: String, in scratch: Scratch) async throws -> CronlockProcess {
        let script = "echo x >> \(scratch.file(name)); touch \(scratch.file(name + ".started")); sleep 30"
        let run = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--retry", "5", "--retry-delay", "50ms",
                                                                  "--", "sh", "-c", script])
        try await scratch.waitFor(name + ".started")
        return run
    }

    @Test func aStopOrASignalIsNeverRetried() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let scratch = try Scratch()
        let stopped = uniqueKey() + "-stop"
        let run = try await startRetrying(cluster, key: stopped, counting: "stopped", in: scratch)
        #expect(try await cronlock(cluster, ["stop", "--key", stopped]).code == 0)
        let result = try await run.finish()
        #expect(result.code == 80 && scratch.read("stopped") == "x\n", "stopped once, not retried: \(result)")

        let second = try await startRetrying(cluster, key: uniqueKey() + "-signal", counting: "signalled", in: scratch)
        second.signal(SIGTERM)
        let ended = try await second.finish()
        #expect(ended.code == 143 && scratch.read("signalled") == "x\n", "a signal ends the run: \(ended)")
    }

    @Test func aSignalWhileWaitingToRetryEndsTheRun() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let run = try await startFailing(cluster, key: key, ["--retry", "3", "--retry-delay", "20s"], succeedingOnCall: 9, in: scratch)
        try await Task.sleep(for: .milliseconds(500))
        let start = ContinuousClock.now
        run.signal(SIGTERM)
        let result = try await run.finish()
        #expect(result.code == 143 && scratch.read("count") == "1\n", "\(result)")
        #expect(ContinuousClock.now - start < .seconds(5), "not after the 20 s delay")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0)
    }
}
