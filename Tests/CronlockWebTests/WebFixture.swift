import CronlockWeb
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RedLock
import RedisTestSupport
import Testing

/// Integration suites run when `redis-server` is available, or when `REDLOCK_REQUIRE_REDIS=1`
/// demands them (then a missing server fails instead of skipping).
let needsRedis = Testing.ConditionTrait.enabled(
    if: RedisServerProcess.shouldRunIntegrationTests,
    "redis-server is not installed; set REDLOCK_REQUIRE_REDIS=1 to fail instead of skip")

/// Real masters, the built `cronlock` run against them under a prefix of the test's own, and the
/// dashboard's router over the same masters.
final class WebFixture: @unchecked Sendable {
    static let viewerToken = "viewer-token-0123456789"
    static let operatorToken = "operator-token-9876543210"

    let cluster: RedisCluster
    let prefix: String

    init(masters: Int = 3, function: String = #function) async throws {
        cluster = try await RedisCluster.start(count: masters)
        prefix = "web-\(function.prefix(while: { $0 != "(" }))-\(UUID().uuidString.prefix(6)):"
    }

    /// The `cronlock` binary beside this test bundle.
    static let cronlock: String = {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return testBinary.deletingLastPathComponent().appendingPathComponent("cronlock").path
    }()

    /// `cronlock` with this fixture's masters and prefix before `arguments`; its exit code and output.
    func cronlock(_ arguments: [String], within limit: Duration = .seconds(60)) async throws -> (code: Int32, output: String) {
        let process = try start(arguments)
        let code = try #require(await process.exitCode(within: limit), "cronlock \(arguments) did not exit")
        return (code, process.standardOutput + process.standardError)
    }

    /// `cronlock` started in the background (killed when the value goes).
    func start(_ arguments: [String]) throws -> SpawnedProcess {
        let servers = cluster.urls.flatMap { ["--server", $0] }
        return try SpawnedProcess(Self.cronlock, servers + ["--prefix", prefix] + arguments,
                                  environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
    }

    /// Runs `test` with a client of the dashboard (no socket: the router itself) over these masters.
    func withDashboard<Value: Sendable>(tokens: AccessTokens = AccessTokens(viewer: nil, operator: nil),
                                        _ test: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let redis = try RedLockConfiguration(serverAddresses: cluster.urls)
        let settings = WebSettings(redis: redis, prefix: prefix, tokens: tokens)
        let dashboard = try Dashboard(settings: settings)
        let application = Application(router: try WebApplication.makeRouter(dashboard: dashboard))
        do {
            let value = try await application.test(.router, test)
            await dashboard.shutdown()
            return value
        } catch {
            await dashboard.shutdown()
            throw error
        }
    }

    static let bothTokens = AccessTokens(viewer: viewerToken, operator: operatorToken)
}

/// `Authorization: Bearer TOKEN`.
func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The error body's `code` (and a check that it has a message).
    func errorCode() throws -> String? {
        let object = try json()
        #expect((object["message"] as? String)?.isEmpty == false, "\(text)")
        return object["code"] as? String
    }
}
