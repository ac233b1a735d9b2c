import Foundation
import RedisTestSupport
import TestLoad
import Testing

/// The dashboard's checks that need tools beyond Swift, run as part of `swift test`: the real-browser
/// test (headless Chromium through selenium, `scripts/browser-test`) and the OpenAPI fuzz
/// (schemathesis, `scripts/api-fuzz`). `scripts/setup --dashboard` installs the tools; without
/// them the tests are skipped, saying which tool is missing.
@Suite("cronlock-web through a real browser and an API fuzzer", needsRedis, .load(.heavy))
struct DashboardScriptTests {
    @Test(.enabled(if: DashboardTools.missing(["chromium", "chromedriver"], python: "selenium").isEmpty,
                   "needs \(DashboardTools.missing(["chromium", "chromedriver"], python: "selenium")): scripts/setup --dashboard"))
    func aRealBrowserSeesJobsPausesOneAndWatchesTheLivePage() async throws {
        try await DashboardTools.run("scripts/browser-test", [:])
    }

    @Test(.enabled(if: DashboardTools.missing(["curl"], python: "schemathesis").isEmpty,
                   "needs \(DashboardTools.missing(["curl"], python: "schemathesis")): scripts/setup --dashboard"))
    func schemathesisFindsNoServerErrorNorAnAnswerTheDocumentDoesNotDescribe() async throws {
        try await DashboardTools.run("scripts/api-fuzz", ["API_FUZZ_EXAMPLES": "25"])
    }
}

/// Finding the tools and running a script against this build's binaries.
enum DashboardTools {
    /// The package's root (this file is Tests/CronlockWebTests/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The commands (and the Python module) of `commands` that this machine lacks.
    static func missing(_ commands: [String], python module: String?) -> [String] {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        var missing = commands.filter { command in
            !path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(command)") }
        }
        if let module, !pythonHas(module) { missing.append("python3 module \(module)") }
        return missing
    }

    private static func pythonHas(_ module: String) -> Bool {
        guard let process = try? SpawnedProcess("/usr/bin/env", ["python3", "-c", "import \(module)"],
                                                environment: ProcessInfo.processInfo.environment) else { return false }
        return process.waitForExit(within: .seconds(30)) == 0
    }

    /// Runs `script` (relative to the root) with the binaries beside this test bundle; fails with
    /// its output unless it exits 0 within 10 minutes.
    static func run(_ script: String, _ environment: [String: String]) async throws {
        let binaries = URL(fileURLWithPath: WebFixture.cronlock).deletingLastPathComponent().path
        let process = try SpawnedProcess("\(root)/\(script)", [],
                                         environment: SpawnedProcess.isolatedEnvironment(environment.merging(["CRONLOCK_BIN_DIR": binaries]) { $1 }),
                                         output: .collect, error: .collect)
        let code = await process.exitCode(within: .seconds(600))
        if code == nil {
            // SIGTERM first, so that the script stops the servers and browser it started.
            process.signal(SIGTERM)
            _ = await process.exitCode(within: .seconds(10))
        }
        #expect(code == 0, "\(script) exited \(code.map(String.init) ?? "not within 10 minutes"):\n\(process.standardOutput.suffix(3000))\n\(process.standardError.suffix(3000))")
    }
}
