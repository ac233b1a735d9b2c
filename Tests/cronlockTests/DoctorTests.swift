@testable import CronlockCore
import Foundation
import RedLock
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

    @Test func missingChannelRightsAreAWarningNamingTheChannelsAndTheGrant() {
        let keys = JobKeys(prefix: "cronlock:", group: "alpha", name: "alpha-report")
        let jobRules = DoctorRules(ttl: .seconds(30), minimumHold: .seconds(20), job: "alpha-report")
        var facts = ["a", "b", "c"].map { healthy($0) }
        for index in facts.indices { facts[index].rightsChecked = true; facts[index].channelRights = .allowed(user: "team-a") }
        #expect(worst(facts, jobRules) == .ok)
        let uses = ChannelUse.uses(of: keys)
        facts[1].channelRights = .denied(user: "team-a", uses.filter { $0.channel.hasPrefix("redlock:released:") })
        let denied = jobRules.findings(facts).filter { $0.check == "channels" && $0.severity == .warning }
        #expect(worst(facts, jobRules) == .warning, "the job still runs and holds its lock: a warning, not a failure")
        #expect(denied.count == 1 && denied[0].server == "b" && denied[0].message.contains("may not PUBLISH redlock:released:cronlock:alpha-report"), "\(denied)")
        #expect(denied.first?.fix == "ACL SETUSER team-a &redlock:released:cronlock:alpha-report on every master (and in its ACL file)", "\(denied)")
    }

    @Test func channelRightsThatCannotBeCheckedAreAWarningExceptWhereRedisHasNone() {
        let jobRules = DoctorRules(ttl: .seconds(30), minimumHold: .seconds(20), job: "k")
        var facts = ["a", "b", "c"].map { healthy($0) }
        for index in facts.indices { facts[index].rightsChecked = true; facts[index].channelRights = .allowed(user: "default") }
        facts[0].channelRights = .notChecked("ACL DRYRUN: NOPERM this user has no permissions to run the 'acl|dryrun' command")
        #expect(jobRules.findings(facts).contains { $0.server == "a" && $0.check == "channels" && $0.severity == .warning && $0.message.contains("could not check") })
        facts[0].channelRights = nil
        facts[0].info["redis_version"] = "6.2.14"
        #expect(jobRules.findings(facts).contains { $0.server == "a" && $0.check == "channels" && $0.severity == .warning && $0.message.contains("needs Redis 7") })
        facts[0].info["redis_version"] = "6.0.9"
        #expect(jobRules.findings(facts).contains { $0.server == "a" && $0.check == "channels" && $0.severity == .ok })
    }

    @Test func certificatesWarnWithinThirtyDaysAndFailOutsideTheirValidity() {
        let now: Int64 = 1_800_000_000
        let day: Int64 = 86_400
        func tls(server: (Int64, Int64)?, client: (Int64, Int64)? = nil) -> [ServerFacts] {
            ["a", "b", "c"].map { name in
                var facts = healthy(name)
                facts.askedAtSeconds = now
                facts.certificates = ServerTLSCertificates(
                    server: TLSCertificateValidity(notBeforeSeconds: now - 300 * day, notAfterSeconds: now + 300 * day),
                    client: client.map { TLSCertificateValidity(notBeforeSeconds: $0.0, notAfterSeconds: $0.1) })
                if name == "b", let server { facts.certificates?.server = TLSCertificateValidity(notBeforeSeconds: server.0, notAfterSeconds: server.1) }
                return facts
            }
        }
        func finding(_ facts: [ServerFacts]) -> DoctorFinding? {
            rules.findings(facts).first { $0.check == "tls-certificate" && $0.severity != .ok }
        }
        #expect(worst(tls(server: nil)) == .ok)
        #expect(worst(tls(server: (now - day, now + 31 * day))) == .ok)
        let soon = finding(tls(server: (now - day, now + 29 * day)))
        #expect(soon?.severity == .warning && soon?.server == "b" && soon?.message.contains("the server's certificate expires at") == true
                && soon?.message.contains("in 29 days") == true, "\(String(describing: soon))")
        let expired = finding(tls(server: (now - 2 * day, now - 1)))
        #expect(expired?.severity == .failure && expired?.message.contains("expired at") == true, "\(String(describing: expired))")
        let early = finding(tls(server: (now + 60, now + 2 * day)))
        #expect(early?.severity == .failure && early?.message.contains("is not valid until") == true, "\(String(describing: early))")
        let client = finding(tls(server: nil, client: (now - day, now + 3 * 3600)))
        #expect(client?.severity == .warning && client?.message.contains("the client certificate (--tls-cert-file) expires at") == true
                && client?.message.contains("in 3 hours") == true, "\(String(describing: client))")
    }

    @Test func aServerWhoseCertificateFailsTheHandshakeForItsDatesIsNamedSo() {
        var facts = ["a", "b", "c"].map { healthy($0) }
        facts[2] = ServerFacts(server: "c", failure: "TLS certificate expired or not yet valid (certificate has expired)", failureKind: .certificateExpired)
        let found = rules.findings(facts).first { $0.server == "c" }
        #expect(found?.severity == .failure && found?.check == "tls-certificate" && found?.message.hasPrefix("every TLS handshake fails") == true,
                "\(String(describing: found))")
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

    /// Whether `result` finds all well: exit 0, or exit 1 for slow round trips only (a loaded test
    /// machine can take more than 50 ms to answer a `PING`).
    private func allWell(_ result: CronlockProcess.Result) -> Bool {
        let other = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("ok  ") && !($0.hasPrefix("warning  ") && $0.contains("  latency: ")) }
        return other.isEmpty && (result.code == 0 || (result.code == 1 && result.stdout.contains("  latency: ")))
    }

    @Test func aHealthyDeploymentExitsZeroAndLeavesNothingBehind() async throws {
        let cluster = try await RedisCluster.start(count: 3, extraArguments: Self.durable)
        let key = uniqueKey()
        let result = try await doctor(cluster.urls, ["--key", key])
        #expect(allWell(result), "\(result)")
        #expect(result.stdout.contains("rights: may take \(key)'s lock"), "\(result)")
        #expect(try await cluster.keys("*").isEmpty, "only scratch keys were written, and removed")
        let json = try jsonArray(try await doctor(cluster.urls, ["--json"]).stdout)
        #expect(json.allSatisfy { $0["severity"] as? String == "ok" || $0["check"] as? String == "latency" } && json.contains { $0["check"] as? String == "clock" },
                "\(json)")
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
                                      "%R~cronlock:_jc:@all:*", "&cronlock:_jc:beta:*", "&redlock:released:cronlock:beta-*", "+@all"])
        }
        let urls = cluster.servers.map { "redis://other-team:pw@127.0.0.1:\($0.port)" }
        let denied = try await doctor(urls, ["--key", "alpha-report", "--group", "alpha"])
        #expect(denied.code == 69 && denied.stdout.contains("rights: cannot take alpha-report's lock") && denied.stdout.contains("NOPERM"), "\(denied)")
        #expect(!denied.stdout.contains(":pw@"), "no password in the output")
        let allowed = try await doctor(urls, ["--key", "beta-report", "--group", "beta"])
        #expect(allWell(allowed), "the team's own job: \(allowed)")
        let left = try await cluster.keys("*")
        #expect(left.isEmpty, "\(left)")
    }

    @Test func aUserWithoutChannelRightsIsAWarningNamingTheChannelsAndNothingIsPublished() async throws {
        let cluster = try await RedisCluster.start(count: 3, extraArguments: Self.durable)
        let keys = ["~cronlock:beta-*", "~cronlock:_jc:beta:*", "~cronlock:_jc:@jobs", "%R~cronlock:_jc:@all:*"]
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "mute", "on", ">pw"] + keys + ["+@all"])
            try await server.command(["ACL", "SETUSER", "unchecked", "on", ">pw", "allchannels"] + keys + ["+@all", "-acl"])
        }
        func urls(_ user: String) -> [String] { cluster.servers.map { "redis://\(user):pw@127.0.0.1:\($0.port)" } }
        let denied = try await doctor(urls("mute"), ["--key", "beta-report", "--group", "beta"])
        #expect(denied.code == 1 && !denied.stdout.contains("failure"), "no channel rights is a warning: \(denied)")
        let shown = "redis://mute:***@127.0.0.1:\(cluster.servers[0].port)"
        #expect(denied.stdout.contains("warning  \(shown)  channels: user mute may not PUBLISH cronlock:_jc:beta:events"), "\(denied)")
        #expect(denied.stdout.contains("SUBSCRIBE redlock:released:cronlock:beta-report"), "\(denied)")
        #expect(denied.stdout.contains("; ACL SETUSER mute &cronlock:_jc:beta:* &redlock:released:cronlock:beta-report on every master"),
                "\(denied)")
        let unchecked = try await doctor(urls("unchecked"), ["--key", "beta-report", "--group", "beta"])
        #expect(unchecked.code == 1 && unchecked.stdout.contains("channels: could not check beta-report's channel rights: ACL WHOAMI: NOPERM"), "\(unchecked)")
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "mute", "&cronlock:_jc:beta:*", "&redlock:released:cronlock:beta-*"])
        }
        let granted = try await doctor(urls("mute"), ["--key", "beta-report", "--group", "beta"])
        #expect(allWell(granted) && granted.stdout.contains("ok  \(shown)  channels: user mute may publish and subscribe"), "\(granted)")
        for server in cluster.servers {
            let stats = try await server.command(["INFO", "commandstats"])
            #expect(!"\(stats)".contains("cmdstat_publish") && !"\(stats)".contains("cmdstat_subscribe"), "ACL DRYRUN runs nothing: \(stats)")
        }
        #expect(try await cluster.keys("*").isEmpty)
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

@Suite("cronlock doctor: TLS certificates", needsRedis, .load(.timed))
struct DoctorTLSTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    /// `cronlock doctor` on `cluster` with `tls` options.
    private func doctor(_ cluster: RedisCluster, _ tls: [String]) async throws -> CronlockProcess.Result {
        try await CronlockProcess.run(["doctor"] + cluster.urls.flatMap { ["--server", $0] } + ["--ttl", "2s", "--min-hold", "0s"] + tls)
    }

    @Test func certificatesThatExpireWithinThirtyDaysAreWarnings() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server("soon", requiresClientCertificate: true))
        let result = try await doctor(cluster, ["--tls-ca-file", certificates.certificate("ca"), "--tls-cert-file", certificates.certificate("soonclient"),
                                                "--tls-key-file", certificates.key("soonclient")])
        #expect(result.code == 1 && !result.stdout.contains("failure"), "\(result)")
        for url in cluster.urls {
            #expect(result.stdout.contains("warning  \(url)  tls-certificate: the server's certificate expires at "), "\(result)")
            #expect(result.stdout.contains("warning  \(url)  tls-certificate: the client certificate (--tls-cert-file) expires at "), "\(result)")
        }
        #expect(result.stdout.contains("hours; renew the server's certificate"), "\(result)")
        let valid = try await RedisCluster.start(count: 3, tls: certificates.server())
        let fine = try await doctor(valid, ["--tls-ca-file", certificates.certificate("ca")])
        #expect(fine.stdout.contains("ok  \(valid.urls[0])  tls-certificate: the server's certificate is valid until "), "\(fine)")
        #expect(!fine.stdout.contains("warning  \(valid.urls[0])  tls-certificate"), "\(fine)")
    }

    @Test func anExpiredServerCertificateIsAFailureSaidClearly() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server("expired"))
        let verified = try await doctor(cluster, ["--tls-ca-file", certificates.certificate("ca")])
        #expect(verified.code == 69, "\(verified)")
        #expect(verified.stdout.contains("failure  \(cluster.urls[0])  tls-certificate: every TLS handshake fails: TLS certificate expired"), "\(verified)")
        let unverified = try await doctor(cluster, ["--tls-insecure-skip-verify"])
        #expect(unverified.code == 69, "\(unverified)")
        #expect(unverified.stdout.contains("failure  \(cluster.urls[0])  tls-certificate: the server's certificate expired at 2021-01-01T00:00:00.000Z"),
                "\(unverified)")
    }
}
