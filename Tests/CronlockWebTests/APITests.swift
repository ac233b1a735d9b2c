import CronlockWeb
import Foundation
import Hummingbird
import HummingbirdTesting
import RedisTestSupport
import TestLoad
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("cronlock-web API against real masters and real cronlock runs", needsRedis, .load(.timed))
struct APITests {
    @Test func jobsHistoryHoldersAndMastersShowRealRuns() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "good", "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(try await fixture.cronlock(["--key", "bad", "--group", "nightly", "--min-hold", "0s", "--", "false"]).code == 1)
        try await fixture.withDashboard { client in
            let jobs = try await client.execute(uri: "/api/v1/jobs", method: .get) { try $0.json()["jobs"] as? [[String: Any]] }
            #expect(jobs?.map { $0["name"] as? String } == ["bad", "good"], "failing first: \(String(describing: jobs))")
            #expect(jobs?.map { $0["state"] as? String } == ["failing", "ok"])
            let nightly = try await client.execute(uri: "/api/v1/jobs?group=nightly", method: .get) { try $0.json()["jobs"] as? [[String: Any]] }
            #expect(nightly?.map { $0["name"] as? String } == ["bad"])

            let good = try await client.execute(uri: "/api/v1/jobs/good", method: .get) { try $0.json() }
            let last = good["lastRun"] as? [String: Any]
            #expect(good["group"] as? String == "default" && last?["outcome"] as? String == "ok" && last?["exitCode"] as? Int == 0, "\(good)")

            let history = try await client.execute(uri: "/api/v1/jobs/bad/history?limit=5", method: .get) { try $0.json() }
            let runs = history["runs"] as? [[String: Any]]
            #expect(runs?.count == 1 && runs?.first?["outcome"] as? String == "failed" && runs?.first?["exitCode"] as? Int == 1, "\(history)")
            #expect(history["hasMore"] as? Bool == false)

            let holders = try await client.execute(uri: "/api/v1/jobs/good/holders", method: .get) { try $0.json()["holders"] as? [[String: Any]] }
            #expect(holders?.count == 3 && holders?.allSatisfy { $0["state"] as? String == "free" } == true, "\(String(describing: holders))")

            let masters = try await client.execute(uri: "/api/v1/masters", method: .get) { try $0.json()["masters"] as? [[String: Any]] }
            #expect(masters?.count == 3 && masters?.allSatisfy { $0["up"] as? Bool == true && ($0["version"] as? String)?.isEmpty == false } == true,
                    "\(String(describing: masters))")

            try await client.execute(uri: "/api/v1/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok && response.text.hasPrefix("openapi: 3"))
            }
        }
    }

    @Test func healthActivityDegradedRunsAndFencingTokensShowAsCronlockJobsHasThem() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "late", "--expect-every", "1s", "--min-hold", "0s", "--", "true"]).code == 0)
        // A dead host, as the masters see it: its run stops renewing, and its lock expires.
        let dead = try fixture.start(["--key", "dead", "--ttl", "1s", "--", "sleep", "60"])
        defer { dead.signal(SIGKILL) }
        let held = await eventually(within: .seconds(15)) { (try? await fixture.cluster.holders(of: "\(fixture.prefix)dead")) == 3 }
        try #require(held, "cronlock did not take its lock")
        dead.signal(SIGSTOP)
        let expired = await eventually(within: .seconds(10)) { (try? await fixture.cluster.holders(of: "\(fixture.prefix)dead")) == 0 }
        try #require(expired)
        // One master down: the next run takes the lock on two, degraded.
        fixture.cluster.servers[2].stop()
        #expect(try await fixture.cronlock(["--key", "degraded", "--min-hold", "0s", "--", "true"]).code == 0)
        try await Task.sleep(for: .seconds(2))

        try await fixture.withDashboard { client in
            let jobs = try await client.execute(uri: "/api/v1/jobs", method: .get) { try $0.json()["jobs"] as? [[String: Any]] } ?? []
            #expect(jobs.map { $0["name"] as? String } == ["late", "dead", "degraded"], "late, unknown, then ok: \(jobs)")
            let late = jobs.first { $0["name"] as? String == "late" } ?? [:]
            #expect(late["state"] as? String == "late" && late["health"] as? String == "late" && late["expectEveryMs"] as? Int == 1000
                    && late["attention"] as? Bool == true, "\(late)")
            let unknown = jobs.first { $0["name"] as? String == "dead" } ?? [:]
            #expect(unknown["state"] as? String == "unknown" && unknown["activity"] as? String == "unknown" && unknown["runningOn"] == nil
                    && (unknown["runId"] as? String)?.isEmpty == false && unknown["attention"] as? Bool == true, "\(unknown)")
            let degraded = try await client.execute(uri: "/api/v1/jobs/degraded", method: .get) { try $0.json() }
            let last = degraded["lastRun"] as? [String: Any]
            #expect(degraded["health"] as? String == "ok" && (last?["degraded"] as? [[String: Any]])?.count == 1, "\(degraded)")

            let runs = try await client.execute(uri: "/api/v1/jobs/degraded/history", method: .get) { try $0.json()["runs"] as? [[String: Any]] }
            #expect(runs?.count == 1 && (runs?.first?["fencingToken"] as? Int ?? 0) > 0, "\(String(describing: runs))")
            let downPort = String(fixture.cluster.urls[2].split(separator: ":").last ?? "")
            #expect(((runs?.first?["degraded"] as? [[String: Any]])?.first?["server"] as? String)?.hasSuffix(downPort) == true, "\(String(describing: runs))")
            let deadRuns = try await client.execute(uri: "/api/v1/jobs/dead/history", method: .get) { try $0.json()["runs"] as? [[String: Any]] }
            #expect(deadRuns?.first?["outcome"] as? String == "unknown", "\(String(describing: deadRuns))")

            try await client.execute(uri: "/jobs/dead", method: .get) { response in
                #expect(response.text.contains("presumed-dead") && response.text.contains("state-unknown"), "\(response.text)")
            }
            try await client.execute(uri: "/jobs/degraded", method: .get) { response in
                #expect(response.text.contains("Last run degraded") && response.text.contains("id=\"job-health\">ok"), "\(response.text)")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.text.contains(#"cronlock_job_health{job="late",group="default",health="late"} 1"#)
                        && response.text.contains(#"cronlock_job_unknown{job="dead",group="default"} 1"#), "\(response.text)")
            }
        }
    }

    @Test func badInputIsAFourHundredWithACodeNeverAServerError() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            let token = bearer(WebFixture.operatorToken)
            let cases: [(String, HTTPRequest.Method, String?, HTTPResponse.Status, String)] = [
                ("/api/v1/jobs/nosuch", .get, nil, .notFound, "unknown_job"),
                ("/api/v1/jobs/nosuch/history", .get, nil, .notFound, "unknown_job"),
                ("/api/v1/jobs/nosuch/pause", .post, nil, .notFound, "unknown_job"),
                ("/api/v1/jobs?group=no%20spaces", .get, nil, .badRequest, "bad_group"),
                ("/api/v1/jobs?group=@all", .get, nil, .badRequest, "bad_group"),
                ("/api/v1/events?group=a/b", .get, nil, .badRequest, "bad_group"),
                ("/api/v1/events?count=0", .get, nil, .badRequest, "bad_count"),
                ("/api/v1/jobs/job/history?limit=0", .get, nil, .badRequest, "bad_paging"),
                ("/api/v1/jobs/job/history?page=-1", .get, nil, .badRequest, "bad_paging"),
                ("/api/v1/jobs/job/history?limit=abc", .get, nil, .badRequest, "bad_paging"),
                ("/api/v1/jobs/job/pause", .post, #"{"for": "soon"}"#, .badRequest, "bad_duration"),
                ("/api/v1/jobs/job/pause", .post, #"{"for": "-5s"}"#, .badRequest, "bad_duration"),
                ("/api/v1/jobs/job/pause", .post, #"{"for": "0s"}"#, .badRequest, "bad_duration"),
                ("/api/v1/jobs/job/pause", .post, "not json", .badRequest, "bad_request"),
                ("/api/v1/jobs/job/stop", .post, nil, .conflict, "not_running"),
                ("/api/v1/nosuch", .get, nil, .notFound, "not_found"),
                ("/api/v1/jobs/job", .delete, nil, .notFound, "not_found"),
            ]
            for (uri, method, body, status, code) in cases {
                try await client.execute(uri: uri, method: method, headers: token, body: body.map { ByteBuffer(string: $0) }) { response in
                    #expect(response.status == status, "\(method) \(uri): \(response.status) \(response.text)")
                    let actual = try response.errorCode()
                    #expect(actual == code, "\(method) \(uri): \(response.text)")
                }
            }
        }
    }

    @Test func viewersReadOperatorsAlsoActAndNoTokensMeansReadOnly() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            try await client.execute(uri: "/api/v1/jobs", method: .get) { response in
                let code = try response.errorCode()
                #expect(response.status == .unauthorized && code == "unauthorized")
                #expect(!response.text.contains(WebFixture.viewerToken) && !response.text.contains(WebFixture.operatorToken))
            }
            try await client.execute(uri: "/api/v1/jobs", method: .get, headers: bearer("wrong")) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/jobs", method: .get, headers: bearer(WebFixture.viewerToken)) { #expect($0.status == .ok) }
            for action in ["pause", "resume", "stop"] {
                try await client.execute(uri: "/api/v1/jobs/job/\(action)", method: .post, headers: bearer(WebFixture.viewerToken)) { response in
                    let code = try response.errorCode()
                    #expect(response.status == .forbidden && code == "forbidden", "a viewer cannot \(action): \(response.text)")
                }
            }
            try await client.execute(uri: "/api/v1/jobs/job", method: .get, headers: bearer(WebFixture.viewerToken)) { response in
                let state = try response.json()["state"] as? String
                #expect(state == "ok", "the viewer's attempt changed nothing")
            }
        }
        try await fixture.withDashboard { client in
            try await client.execute(uri: "/api/v1/jobs", method: .get) { #expect($0.status == .ok, "no token files: reading is open") }
            try await client.execute(uri: "/api/v1/jobs/job/pause", method: .post, headers: bearer("anything")) { response in
                #expect(response.status == .forbidden && response.text.contains("read-only"), "\(response.text)")
            }
        }
    }

    @Test func anOperatorsPauseSkipsTheNextRunAndIsRecordedWithWho() async throws {
        let fixture = try await WebFixture()
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("web-pause-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            let token = bearer(WebFixture.operatorToken)
            try await client.execute(uri: "/api/v1/jobs/job/pause", method: .post, headers: token,
                                     body: ByteBuffer(string: #"{"reason": "db upgrade", "for": "10m"}"#)) { response in
                let message = try response.json()["message"] as? String
                #expect(response.status == .ok && message?.hasPrefix("paused job until") == true, "\(response.text)")
            }
            let job = try await client.execute(uri: "/api/v1/jobs/job", method: .get, headers: token) { try $0.json() }
            #expect(job["state"] as? String == "paused", "\(job)")
            #expect((job["paused"] as? String)?.contains("by operator@cronlock-web:") == true && (job["paused"] as? String)?.contains("db upgrade") == true,
                    "recorded with who paused, as cronlock pause records it: \(job)")
            let skipped = try await fixture.cronlock(["--key", "job", "--log-level", "info", "--min-hold", "0s", "--", "touch", marker])
            #expect(skipped.code == 0 && skipped.output.contains("by operator@cronlock-web:"), "\(skipped)")
            #expect(!FileManager.default.fileExists(atPath: marker), "the paused job's run skipped")

            try await client.execute(uri: "/api/v1/jobs/job/resume", method: .post, headers: token) { response in
                let message = try response.json()["message"] as? String
                #expect(response.status == .ok && message == "resumed job", "\(response.text)")
            }
            let ran = try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "touch", marker])
            #expect(ran.code == 0 && FileManager.default.fileExists(atPath: marker), "\(ran)")
        }
    }

    @Test func anOperatorsStopEndsTheRunningRunAndTheHistorySaysWho() async throws {
        let fixture = try await WebFixture()
        let running = try fixture.start(["--key", "long", "--", "sleep", "60"])
        let held = await eventually(within: .seconds(15)) { (try? await fixture.cluster.holders(of: "\(fixture.prefix)long")) == 3 }
        try #require(held, "cronlock did not take its lock")
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            let token = bearer(WebFixture.operatorToken)
            let holders = try await client.execute(uri: "/api/v1/jobs/long/holders", method: .get, headers: token) { try $0.json()["holders"] as? [[String: Any]] }
            #expect(holders?.allSatisfy { $0["state"] as? String == "held" && ($0["ttlMs"] as? Int ?? 0) > 0 && ($0["holder"] as? String)?.contains("pid=") == true } == true,
                    "\(String(describing: holders))")
            try await client.execute(uri: "/api/v1/jobs/long/stop", method: .post, headers: token, body: ByteBuffer(string: #"{"reason": "hung"}"#)) { response in
                let runs = try response.json()["runs"] as? [String]
                #expect(response.status == .accepted && runs?.count == 1, "\(response.text)")
            }
            let code = await running.exitCode(within: .seconds(30))
            #expect(code == 80, "cronlock exits 80 when stopped: \(String(describing: code)) \(running.standardError)")
            let runs = try await client.execute(uri: "/api/v1/jobs/long/history", method: .get, headers: token) { try $0.json()["runs"] as? [[String: Any]] }
            #expect(runs?.first?["outcome"] as? String == "stopped" && (runs?.first?["stoppedBy"] as? String)?.hasPrefix("operator@cronlock-web:") == true,
                    "\(String(describing: runs))")
            try await client.execute(uri: "/api/v1/jobs/long/stop", method: .post, headers: token) { response in
                let code = try response.errorCode()
                #expect(response.status == .conflict && code == "not_running")
            }
        }
    }

    @Test func theEventStreamPassesEachEventOnceFromEveryMaster() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        try await fixture.withDashboard(tokens: WebFixture.bothTokens) { client in
            let token = bearer(WebFixture.operatorToken)
            async let stream = client.execute(uri: "/api/v1/events?count=3", method: .get, headers: token) { $0.text }
            // Wait until the stream has subscribed on every master before causing the events.
            let subscribed = await eventually(within: .seconds(10)) {
                (try? await fixture.cluster.servers.asyncAllSatisfy { try await $0.command(["PUBSUB", "NUMPAT"]) == .integer(1) }) == true
            }
            try #require(subscribed, "the event stream subscribed on every master")
            try await client.execute(uri: "/api/v1/jobs/job/pause", method: .post, headers: token) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/jobs/job/resume", method: .post, headers: token) { #expect($0.status == .ok) }
            #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
            let text = try await stream
            let kinds = text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(kinds == ["paused", "resumed", "started"], "each event once, in order: \(text)")
            #expect(text.contains("data: {"), "\(text)")
        }
    }

    @Test func metricsAreInPrometheusTextFormat() async throws {
        let fixture = try await WebFixture()
        #expect(try await fixture.cronlock(["--key", "job", "--min-hold", "0s", "--", "true"]).code == 0)
        try await fixture.withDashboard { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = response.text
                #expect(text.contains(#"cronlock_job_last_success{job="job",group="default"} 1"#), "\(text)")
                #expect(text.contains("# TYPE cronlock_job_last_duration_seconds gauge"), "\(text)")
                #expect(text.contains(#"cronlock_job_paused{job="job",group="default"} 0"#), "\(text)")
                #expect(text.components(separatedBy: "cronlock_master_up{").count == 4, "one per master: \(text)")
            }
        }
    }
}

extension Array where Element: Sendable {
    func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}
