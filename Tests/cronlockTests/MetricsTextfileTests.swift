import Foundation
import RedisTestSupport
import Testing
import TestLoad

@Suite("--metrics-textfile: Prometheus textfiles", needsRedis, .load(.timed))
struct MetricsTextfileTests {
    @Test func everyRunAndSkipRewritesTheJobsFileAsValidPrometheusText() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let options = ["--key", key, "--group", "nightly", "--min-hold", "0s", "--metrics-textfile", scratch.path]
        let before = Date().timeIntervalSince1970
        #expect(try await cronlock(cluster, options + ["--expect-every", "1h", "--", "true"]).code == 0)
        let file = scratch.file("cronlock_\(key).prom")
        var samples = try await PrometheusText.samples(ofFile: file)
        let labels = ["job": key, "group": "nightly"]
        let host = try #require(samples["cronlock_job_runs_total"]?.first?.labels["host"])
        #expect(samples["cronlock_job_runs_total"]?.first?.labels == labels.merging(["host": host]) { $1 })
        #expect(samples["cronlock_job_runs_total"]?.first?.value == 1)
        #expect(samples["cronlock_job_last_exit_code"]?.first?.value == 0)
        #expect(samples["cronlock_job_expected_interval_seconds"]?.first?.value == 3600)
        let success = try #require(samples["cronlock_job_last_success_timestamp_seconds"]?.first?.value)
        #expect(success >= before - 1 && success <= Date().timeIntervalSince1970 + 1)
        #expect(samples["cronlock_job_last_outcome"]?.first { $0.labels["outcome"] == "ok" }?.value == 1)
        #expect(samples["cronlock_job_last_start_timestamp_seconds"]?.first?.labels == labels)

        #expect(try await cronlock(cluster, options + ["--", "sh", "-c", "exit 3"]).code == 3)
        samples = try await PrometheusText.samples(ofFile: file)
        #expect(samples["cronlock_job_runs_total"]?.first?.value == 2 && samples["cronlock_job_last_exit_code"]?.first?.value == 3)
        #expect(samples["cronlock_job_last_outcome"]?.first { $0.labels["outcome"] == "failed" }?.value == 1)
        #expect(samples["cronlock_job_last_outcome"]?.first { $0.labels["outcome"] == "ok" }?.value == 0)
        #expect(samples["cronlock_job_last_success_timestamp_seconds"]?.first?.value == success, "the last success stays")

        // Held by a run elsewhere: this invocation skips.
        let holder = try CronlockProcess(serverArguments(cluster) + ["--key", key, "--min-hold", "0s", "--", "sh", "-c",
                                                                     "touch \(scratch.file("held")); sleep 30"])
        try await scratch.waitFor("held")
        #expect(try await cronlock(cluster, options + ["--", "true"]).code == 75)
        holder.signal(SIGTERM)
        _ = try await holder.finish()
        samples = try await PrometheusText.samples(ofFile: file)
        #expect(samples["cronlock_job_skips_total"]?.first?.value == 1 && samples["cronlock_job_runs_total"]?.first?.value == 2)
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { !$0.hasPrefix("held") }.sorted()
        #expect(files == [".cronlock_\(key).prom.lock", "cronlock_\(key).prom"].sorted(), "no temporary file left: \(files)")
        let text = scratch.read("cronlock_\(key).prom")
        #expect(text.contains("# TYPE cronlock_job_runs_total counter") && text.contains("# TYPE cronlock_job_last_exit_code gauge"))
    }

    @Test func aDirectoryThatCannotTakeTheFileIsAUsageError() async throws {
        let result = try await CronlockProcess.run(["--server", "redis://127.0.0.1:1", "--key", "k", "--metrics-textfile", "/nonexistent/dir", "--", "true"])
        #expect(result.code == 64 && result.stderr.contains("--metrics-textfile /nonexistent/dir is not a directory"), "\(result)")
    }
}
