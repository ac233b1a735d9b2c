@testable import CronlockCore
import Foundation
import RedisTestSupport
import Testing
import TestLoad

@Suite("cronlock doctor: the rules")
struct DoctorRulesTests {
    private let rules = DoctorRules(ttl: .seconds(30), minimumHold: .seconds(20), job: nil)

    private func healthy(_ name: String, runID: String? = nil, offset: Duration = .zero) -> ServerFacts {
        ServerFacts(server: name, latency: .milliseconds(1),
                    info: ["redis_version": "7.0.15", "run_id": runID ?? name, "uptime_in_seconds": "3600", "aof_enabled": "1",
                           "maxmemory": "0", "maxmemory_policy": "noeviction"],
                    appendfsync: "always", clockOffset: offset)
    }

    private func worst(_ facts: [ServerFacts], _ rules: DoctorRules? = nil) -> DoctorFinding.Severity {
        (rules ?? self.rules).findings(facts).map(\.severity).max() ?? .ok
    }

    @Test func aHealthyDeploymentHasOnlyOkFindings() {
        #expect(worst(["a", "b", "c"].map { healthy($0) }) == .ok)
    }

    @Test func evictionIsAFailureOnlyWhenMemoryIsLimited() {
        var facts = ["a", "b", "c"].map { healthy($0) }
        facts[1].info["maxmemory_policy"] = "allkeys-lru"
        #expect(worst(facts) == .warning)
        facts[1].info["maxmemory"] = "104857600"
        #expect(worst(facts) == .failure)
        facts[1].info["maxmemory_policy"] = "volatile-ttl"
        #expect(worst(facts) == .warning)
    }

    @Test func aRecentRestartMattersOnlyWithoutDurablePersistence() {
        var facts = ["a", "b", "c"].map { healthy($0) }
        facts[0].info["uptime_in_seconds"] = "5"
        #expect(worst(facts) == .ok, "AOF with appendfsync always keeps the locks")
        facts[0].info["aof_enabled"] = "0"
        #expect(rules.findings(facts).contains { $0.check == "restart" && $0.server == "a" && $0.severity == .warning })
    }

    @Test func duplicatesEvenCountsAndOldVersionsAreFound() {
        #expect(worst([healthy("a"), healthy("b", runID: "a"), healthy("c")]) == .failure)
        #expect(rules.findings(["a", "b", "c", "d"].map { healthy($0) }).contains { $0.check == "masters" && $0.severity == .warning })
        var old = healthy("a")
        old.info["redis_version"] = "4.0.9"
        #expect(worst([old, healthy("b"), healthy("c")]) == .failure)
    }

    @Test func oneOddMasterClockWarnsAndAHostOffByMoreThanTheMinHoldFails() {
        let oddMaster = [healthy("a"), healthy("b", offset: .seconds(3600)), healthy("c")]
        #expect(rules.findings(oddMaster).contains { $0.check == "clock" && $0.server == "b" && $0.severity == .warning })
        #expect(worst(oddMaster) == .warning)
        let hostAhead = ["a", "b", "c"].map { healthy($0, offset: .seconds(-30)) }
        #expect(rules.findings(hostAhead).contains { $0.check == "clock" && $0.server == nil && $0.severity == .failure })
        #expect(worst(["a", "b", "c"].map { healthy($0, offset: .seconds(5)) }) == .warning)
    }
}

@Suite("cronlock doctor: against masters configured wrong", needsRedis, .load(.timed))
struct DoctorTests {
    /// Durable masters: AOF with appendfsync always.
    private static let durable = ["--appendonly", "yes", "--appendfsync", "always"]

    /// `cronlock doctor` on `servers` with `--ttl ttl --min-hold 0s` and `options`.
    private func doctor(_ servers: [String], _ options: [String] = [], ttl: String = "2s") async throws -> CronlockProcess.Result {
        try await CronlockProcess.run(["doctor"] + servers.flatMap { ["--server", $0] } + ["--ttl", ttl, "--min-hold", "0s"] + options)
    }

    @Test func aHealthyDeploymentExitsZeroAndLeavesNothingBehind() async throws {
        let cluster = try await RedisCluster.start(count: 3, extraArguments: Self.durable)
        let key = uniqueKey()
        let result = try await doctor(cluster.urls, ["--key", key])
        #expect(result.code == 0 && !result.stdout.contains("warning") && !result.stdout.contains("failure"), "\(result)")
        #expect(result.stdout.contains("rights: may take \(key)'s lock"), "\(result)")
        #expect(try await cluster.keys("*").isEmpty, "only scratch keys were written, and removed")
        let json = try jsonArray(try await doctor(cluster.urls, ["--json"]).stdout)
        #expect(json.allSatisfy { $0["severity"] as? String == "ok" } && json.contains { $0["check"] as? String == "clock" }, "\(json)")
    }

    @Test func allkeysEvictionIsAFailureAndNoAOFAWarning() async throws {
        let cluster = RedisCluster(servers: [try await RedisServerProcess.start(extraArguments: Self.durable),
                                             try await RedisServerProcess.start(extraArguments: Self.durable + ["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"]),
                                             try await RedisServerProcess.start(persistent: false)])
        let result = try await doctor(cluster.urls)
        #expect(result.code == 69, "\(result)")
        #expect(result.stdout.contains("failure  \(cluster.urls[1])  maxmemory-policy: allkeys-lru evicts lock keys"), "\(result)")
        #expect(result.stdout.contains("warning  \(cluster.urls[2])  persistence: no AOF"), "\(result)")
        try await cluster.servers[1].command(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        let warningsOnly = try await doctor(cluster.urls)
        #expect(warningsOnly.code == 1 && !warningsOnly.stdout.contains("failure"), "\(warningsOnly)")
    }

    @Test func aMasterRestartedWithinTheLongestLockIsReported() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        // The others are up for longer than the longest lock (6 s); the restarted one, for less
        // (with margin for a slow start of doctor on a loaded machine).
        try await Task.sleep(for: .seconds(7))
        cluster.servers[1].stop()
        try await cluster.servers[1].restart()
        let result = try await doctor(cluster.urls, ttl: "6s")
        #expect(result.code == 1, "\(result)")
        let restarts = result.stdout.split(separator: "\n").filter { $0.contains("restart: up for only") }
        #expect(restarts.count == 1 && restarts.first?.contains(cluster.urls[1]) == true, "only the restarted master: \(result)")
    }

    @Test func aUserWithoutRightsForTheJobIsAFailureAndNothingIsLeftBehind() async throws {
        let cluster = try await RedisCluster.start(count: 3, extraArguments: Self.durable)
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "other-team", "on", ">pw", "~cronlock:beta-*", "~cronlock:_jc:beta:*", "~cronlock:_jc:@jobs",
                                      "%R~cronlock:_jc:@all:*", "+@all"])
        }
        let urls = cluster.servers.map { "redis://other-team:pw@127.0.0.1:\($0.port)" }
        let denied = try await doctor(urls, ["--key", "alpha-report", "--group", "alpha"])
        #expect(denied.code == 69 && denied.stdout.contains("rights: cannot take alpha-report's lock") && denied.stdout.contains("NOPERM"), "\(denied)")
        #expect(!denied.stdout.contains(":pw@"), "no password in the output")
        let allowed = try await doctor(urls, ["--key", "beta-report", "--group", "beta"])
        #expect(allowed.code == 0, "the team's own job: \(allowed)")
        let left = try await cluster.keys("*")
        #expect(left.isEmpty, "\(left)")
    }

    @Test func twoNamesForOneServerAndAnEvenCountAreFound() async throws {
        let cluster = try await RedisCluster.start(count: 3, extraArguments: Self.durable)
        let result = try await doctor(cluster.urls + ["redis://localhost:\(cluster.servers[0].port)"])
        #expect(result.code == 69, "\(result)")
        #expect(result.stdout.contains("failure  all masters  duplicate: \(cluster.urls[0]) and redis://localhost:\(cluster.servers[0].port) are one server"),
                "\(result)")
        #expect(result.stdout.contains("warning  all masters  masters: 4 masters"), "\(result)")
    }

    /// Debian's redis-server (jemalloc) does not start under libfaketime ("unexpected recursive
    /// calls to clock_gettime()"), so the skewed clock is this host's: cronlock runs under
    /// `faketime`. A single master's odd clock is covered by `DoctorRulesTests`.
    @Test func aHostWhoseClockIsOffByMoreThanTheMinHoldIsAFailure() async throws {
        let faketime = "/usr/bin/faketime"
        try #require(FileManager.default.isExecutableFile(atPath: faketime), "faketime is not installed (scripts/setup installs it)")
        let cluster = try await RedisCluster.start(count: 3, extraArguments: Self.durable)
        let servers = cluster.urls.flatMap { ["--server", $0] }
        let ahead = try await CronlockProcess(["doctor"] + servers + ["--min-hold", "20s"], launcher: [faketime, "-f", "+60s"]).finish()
        #expect(ahead.code == 69 && ahead.stdout.contains("failure  all masters  clock: this host's clock is +"), "\(ahead)")
        let behind = try await CronlockProcess(["doctor"] + servers + ["--ttl", "2s", "--min-hold", "20s"], launcher: [faketime, "-f", "-5s"]).finish()
        #expect(behind.code == 1 && behind.stdout.contains("warning  all masters  clock: this host's clock is -"), "\(behind)")
    }
}
