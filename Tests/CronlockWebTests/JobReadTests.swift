import CronlockWeb
import Foundation
import Hummingbird
import HummingbirdTesting
import RedisTestSupport
import TestLoad
import Testing

@Suite("cronlock-web reads every job in a few scripts per master; run counters in /metrics", needsRedis, .load(.timed))
struct JobReadTests {
    /// `count` jobs in the layout cronlock writes, on every master: odd ones in group `odd`, each
    /// with a last run and run counters (`runs:ok` = its number, `runs:failed` = 1).
    private static func fill(_ fixture: WebFixture, jobs count: Int) async throws {
        let fill = """
            for j = 1, tonumber(ARGV[2]) do
              local name, group = 'job-' .. j, (j % 2 == 1) and 'odd' or 'even'
              redis.call('hset', ARGV[1] .. '_jc:@jobs', name, group)
              redis.call('hset', ARGV[1] .. '_jc:' .. group .. ':job:' .. name, 'group', group, 'last_run', string.format('%016x', j),
                'last_outcome', 'ok', 'last_exit', '0', 'last_host', 'web-1', 'last_at', '1767225600000', 'last_duration_ms', '12',
                'runs:ok', j, 'runs:failed', 1)
            end
            return 1
            """
        for server in fixture.cluster.servers {
            #expect(try await server.command(["EVAL", fill, "0", fixture.prefix, String(count)]) == .integer(1))
        }
    }

    /// How many times `command` ran on `server` since its stats were reset (`INFO commandstats`).
    private static func calls(of command: String, on server: RedisServerProcess) async throws -> Int {
        guard case .string(let info) = try await server.command(["INFO", "commandstats"]) else { return -1 }
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):") } ?? ""
        // cmdstat_eval_ro:calls=3,usec=…,rejected_calls=0,failed_calls=0
        return Int(line.split(separator: "calls=").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? 0
    }

    @Test func theJobsOfAPageAreReadInOneScriptPerMasterForEvery250Jobs() async throws {
        let fixture = try await WebFixture()
        try await Self.fill(fixture, jobs: 600)
        for server in fixture.cluster.servers {
            try await server.command(["HSET", "\(fixture.prefix)_jc:odd:pause", "by", "ana@ops", "reason", "upgrade"])
            try await server.command(["CONFIG", "RESETSTAT"])
        }
        try await fixture.withDashboard { client in
            let jobs = try await client.execute(uri: "/api/v1/jobs", method: .get) { try $0.json()["jobs"] as? [[String: Any]] } ?? []
            #expect(jobs.count == 600)
            let paused = jobs.filter { $0["state"] as? String == "paused" }
            #expect(paused.count == 300 && paused.allSatisfy { ($0["paused"] as? String)?.contains("ana@ops") == true }, "the group's pause, read once, applies to each of its jobs")
            let last = jobs.first { $0["name"] as? String == "job-600" }?["lastRun"] as? [String: Any]
            #expect(last?["run"] as? String == String(format: "%016x", 600) && last?["durationMs"] as? Int == 12, "\(String(describing: last))")
        }
        for server in fixture.cluster.servers {
            let scripts = try await Self.calls(of: "eval_ro", on: server)
            #expect(scripts == 3, "600 jobs: 3 scripts on \(server.url), not one per job: \(scripts)")
        }
    }

    @Test func metricsCountEveryHostsRunsPerOutcomeAsPrometheusParsesThem() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "false"]).code == 1)
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        let text = try await fixture.withDashboard { client in
            try await client.execute(uri: "/metrics", method: .get) { $0.text }
        }
        let samples = try await PrometheusText.samples(text)
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            samples[name]?.first { $0.labels == labels }?.value
        }
        let job = ["job": "job", "group": "default"]
        #expect(value("cronlock_job_runs_total", job.merging(["outcome": "ok"]) { $1 }) == 2, "\(text)")
        #expect(value("cronlock_job_runs_total", job.merging(["outcome": "failed"]) { $1 }) == 1, "\(text)")
        #expect(value("cronlock_job_runs_total", job.merging(["outcome": "timeout"]) { $1 }) == 0, "\(text)")
        #expect(value("cronlock_job_late", job) == 0 && value("cronlock_job_paused", job) == 0, "\(text)")
        #expect(value("cronlock_job_last_success", job) == 1, "\(text)")
        #expect(samples["cronlock_master_up"]?.count == 3 && samples["cronlock_master_up"]?.allSatisfy { $0.value == 1 } == true, "\(text)")
        #expect(samples["cronlock_master_errors_total"]?.count == 3, "one per master: \(text)")
        #expect((samples["cronlock_master_request_duration_seconds_count"]?.reduce(0) { $0 + $1.value } ?? 0) > 0, "\(text)")
    }
}
