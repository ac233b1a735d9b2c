import Foundation
import RedisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("cronlock-web, the executable: options, listening, SIGTERM", needsRedis)
struct ExecutableTests {
    static let executable: String = URL(fileURLWithPath: WebFixture.cronlock).deletingLastPathComponent().appendingPathComponent("cronlock-web").path

    @Test func servesOnTheGivenPortAndExitsZeroOnSIGTERM() async throws {
        let fixture = try await WebFixture(masters: 1)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("web-token-\(UUID().uuidString.prefix(8))").path
        try "\(WebFixture.operatorToken)\n".write(toFile: scratch, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let web = try SpawnedProcess(Self.executable, ["--server", fixture.cluster.urls[0], "--port", "0", "--operator-token-file", scratch],
                                     environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
        let listening = await eventually(within: .seconds(20)) { web.standardOutput.contains("listening on http://127.0.0.1:") }
        #expect(listening, "stdout \(web.standardOutput) stderr \(web.standardError)")
        web.signal(SIGTERM)
        let code = await web.exitCode(within: .seconds(15))
        #expect(code == 0, "exit \(String(describing: code)), stderr \(web.standardError)")
        #expect(!(web.standardOutput + web.standardError).contains(WebFixture.operatorToken), "the token is never printed")
    }

    @Test func badOptionsAreOneLineAndExit64() async throws {
        let cases: [([String], String)] = [
            (["--port", "70000"], "--port must be 0 to 65535"),
            (["--key", "x"], "takes no --key"),
            (["--viewer-token-file", "/nonexistent/token"], "cannot read --viewer-token-file /nonexistent/token"),
            (["--server", "redis://host:notaport"], "redis://host:notaport"),
        ]
        for (arguments, expected) in cases {
            let web = try SpawnedProcess(Self.executable, arguments, environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
            let code = await web.exitCode(within: .seconds(20))
            #expect(code == 64, "\(arguments): exit \(String(describing: code)) \(web.standardError)")
            #expect(web.standardError.hasPrefix("cronlock-web: ") && web.standardError.contains(expected)
                    && web.standardError.split(separator: "\n").count == 1, "\(arguments): \(web.standardError)")
        }
    }
}
