import Foundation
import RedisTestSupport
import TestLoad
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("cronlock-web's continuous missed-run check: late events and --notify-late", needsRedis, .load(.timed))
struct LateWatchTests {
    /// The lines of `path` (none when it does not exist yet).
    private static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func aJobThatStopsRunningIsAnnouncedLateOnceAndNotifiedOnceByTwoDashboards() async throws {
        let fixture = try await WebFixture()
        let notified = FileManager.default.temporaryDirectory.appendingPathComponent("late-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: notified) }
        let servers = fixture.cluster.urls.flatMap { ["--server", $0] }
        // Late 2 s after its start: 1 s plus the grace (1 s: under a minute, the grace is the interval).
        #expect(try await fixture.cronlock(["--key", "nightly", "--expect-every", "1s", "--min-hold", "0s", "--", "true"]).code == 0)
        let watcher = try SpawnedProcess(WebFixture.cronlock, ["watch", "--json", "--count", "1"] + servers + ["--prefix", fixture.prefix],
                                         environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
        let subscribed = await eventually(within: .seconds(15)) {
            (try? await fixture.cluster.servers.asyncAllSatisfy { try await $0.command(["PUBSUB", "NUMPAT"]) == .integer(1) }) == true
        }
        try #require(subscribed, "watch subscribed on every master: \(watcher.standardError)")
        let notify = #"echo "$CRONLOCK_EVENT $CRONLOCK_JOB $CRONLOCK_GROUP $CRONLOCK_LAST_STARTED_AT ${CRONLOCK_PASSWORD:-no-secret}" >> "# + notified
        let dashboards = try (0..<2).map { _ in
            try SpawnedProcess(ExecutableTests.executable, servers + ["--prefix", fixture.prefix, "--port", "0", "--late-check-every", "200ms",
                                                                     "--notify-late", notify],
                               environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
        }
        defer { for dashboard in dashboards { dashboard.signal(SIGKILL) } }

        #expect(await watcher.exitCode(within: .seconds(20)) == 0, "watch saw an event: \(watcher.standardError)")
        let event = try #require(try JSONSerialization.jsonObject(with: Data(watcher.standardOutput.utf8)) as? [String: Any], "\(watcher.standardOutput)")
        #expect(event["event"] as? String == "late" && event["job"] as? String == "nightly" && event["group"] as? String == "default"
                && event["expect_every_ms"] as? Int == 1000 && (event["last_started_at"] as? String)?.hasSuffix("Z") == true, "\(event)")
        #expect(await eventually(within: .seconds(10)) { !Self.lines(notified).isEmpty }, "--notify-late ran")
        // Many checks later (200 ms apart, by two dashboards), still one notification for this lateness.
        try await Task.sleep(for: .seconds(2))
        let first = Self.lines(notified)
        #expect(first.count == 1, "once per lateness, across both dashboards: \(first)")
        #expect(first.first?.hasPrefix("late nightly default 20") == true && first.first?.hasSuffix(" no-secret") == true, "\(first)")

        // It runs again, and becomes late again: one more notification.
        #expect(try await fixture.cronlock(["--key", "nightly", "--expect-every", "1s", "--min-hold", "0s", "--", "true"]).code == 0)
        #expect(await eventually(within: .seconds(10)) { Self.lines(notified).count >= 2 }, "notified again for the new lateness")
        try await Task.sleep(for: .seconds(2))
        let second = Self.lines(notified)
        #expect(second.count == 2 && second[1] != second[0], "\(second)")

        for dashboard in dashboards {
            dashboard.signal(SIGTERM)
            #expect(await dashboard.exitCode(within: .seconds(15)) == 0, "\(dashboard.standardError)")
        }
    }
}
