import Foundation
import RedisTestSupport
import Testing
import TestLoad

/// cronlock's fencing: the command's `CRONLOCK_FENCING_TOKEN`, the token in `history`, the fence
/// per server in `status`, and `--fencing` / `CRONLOCK_FENCING`.
@Suite("cronlock fencing tokens", needsRedis, .load(.timed))
struct CronlockFencingTests {
    /// Runs `sh -c 'echo $CRONLOCK_FENCING_TOKEN >> tokens'` under cronlock with `options`.
    private func runJob(_ cluster: RedisCluster, key: String, scratch: Scratch, _ options: [String] = [],
                        environment: [String: String] = [:]) async throws -> CronlockProcess.Result {
        try await CronlockProcess.run(serverArguments(cluster) + ["--key", key, "--min-hold", "0s"] + options
                                      + ["--", "sh", "-c", "echo \"${CRONLOCK_FENCING_TOKEN-none}\" >> \(scratch.file("tokens"))"],
                                      environment: environment)
    }

    @Test func eachRunGetsAHigherTokenThatHistoryAndStatusShow() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        for _ in 0..<3 {
            let run = try await runJob(cluster, key: key, scratch: scratch)
            #expect(run.code == 0, "\(run)")
        }
        let tokens = scratch.read("tokens").split(separator: "\n").compactMap { UInt64($0) }
        #expect(tokens.count == 3 && tokens == tokens.sorted() && Set(tokens).count == 3, "best-effort is the default: \(tokens)")

        let history = try await CronlockProcess.run(["history"] + serverArguments(cluster) + ["--key", key, "--json"])
        #expect(history.code == 0, "\(history)")
        for token in tokens { #expect(history.stdout.contains("\"fencing_token\":\(token)"), "\(history)") }
        let text = try await CronlockProcess.run(["history"] + serverArguments(cluster) + ["--key", key])
        #expect(text.stdout.contains("fence \(tokens.last!)"), "\(text)")

        let status = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key])
        #expect(status.stdout.components(separatedBy: "fence \(tokens.last!)").count - 1 == 3, "one fence per server: \(status)")
        let json = try await CronlockProcess.run(["status"] + serverArguments(cluster) + ["--key", key, "--json"])
        #expect(json.stdout.components(separatedBy: "\"fence\":\(tokens.last!)").count - 1 == 3, "\(json)")
    }

    @Test func fencingOffGivesNoTokenAndBadModesAreUsageErrors() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let off = try await runJob(cluster, key: key, scratch: scratch, ["--fencing", "off"])
        #expect(off.code == 0 && scratch.read("tokens") == "none\n", "\(off)")
        #expect(try await cluster.keys("cronlock:\(key):redlock.fence").isEmpty)

        let bad = try await runJob(cluster, key: key, scratch: scratch, environment: ["CRONLOCK_FENCING": "sometimes"])
        #expect(bad.code == 64 && bad.stderr.contains("CRONLOCK_FENCING=\"sometimes\" is not a fencing mode"), "\(bad)")
        let badOption = try await runJob(cluster, key: key, scratch: scratch, ["--fencing", "maybe"])
        #expect(badOption.code == 64 && badOption.stderr.contains("not a fencing mode"), "\(badOption)")
    }

    @Test func requiredFencingRefusesMastersWithoutAOFNamingThem() async throws {
        let cluster = try await RedisCluster.start(count: 3, persistent: false)
        let scratch = try Scratch()
        let required = try await runJob(cluster, key: uniqueKey(), scratch: scratch, environment: ["CRONLOCK_FENCING": "required"])
        #expect(required.code == 69 && required.stderr.contains("without AOF (appendonly no)"), "\(required)")
        #expect(!scratch.exists("tokens"), "the command did not run")
    }
}
