import Foundation
import RedLock
import RedisTestSupport
import Testing

/// Integration suites run when `redis-server` is available, or when `REDLOCK_REQUIRE_REDIS=1`
/// demands them (then a missing server fails instead of skipping).
let needsRedis = Testing.ConditionTrait.enabled(
    if: RedisServerProcess.shouldRunIntegrationTests,
    "redis-server is not installed; set REDLOCK_REQUIRE_REDIS=1 to fail instead of skip")

/// A resource name no other test uses.
func uniqueResource(_ function: String = #function) -> String {
    "test:\(function.prefix(while: { $0 != "(" })):\(UUID().uuidString.prefix(8))"
}

/// A configuration for the servers at `urls`, with tight timings suited to loopback tests.
func testConfiguration(_ urls: [String], configure: (inout RedLockConfiguration) -> Void = { _ in }) throws -> RedLockConfiguration {
    var configuration = try RedLockConfiguration(serverAddresses: urls)
    configuration.tuning.retryDelay = .milliseconds(20)
    configure(&configuration)
    return configuration
}

/// A client for `cluster`, with tight timings suited to loopback tests.
func makeClient(_ cluster: RedisCluster, configure: (inout RedLockConfiguration) -> Void = { _ in }) throws -> RedLockClient {
    try RedLockClient(configuration: testConfiguration(cluster.urls, configure: configure))
}

/// Runs `body` with a client for `cluster` (see `testConfiguration`), and shuts the client down
/// afterwards whatever happens.
func withClient<T>(_ cluster: RedisCluster, configure: (inout RedLockConfiguration) -> Void = { _ in },
                   _ body: (RedLockClient) async throws -> T) async throws -> T {
    try await withClient(testConfiguration(cluster.urls, configure: configure), body)
}

/// The same for the servers at `urls`.
func withClient<T>(_ urls: [String], configure: (inout RedLockConfiguration) -> Void = { _ in },
                   _ body: (RedLockClient) async throws -> T) async throws -> T {
    try await withClient(testConfiguration(urls, configure: configure), body)
}

/// Runs `body` with a client for `configuration` (`withRedLockClient`).
func withClient<T>(_ configuration: RedLockConfiguration, _ body: (RedLockClient) async throws -> T) async throws -> T {
    try await withRedLockClient(configuration: configuration, body)
}

/// Expects `body` to throw a `RedLockError` with `code`, and returns it.
@discardableResult
func expectRedLockError<T>(_ code: RedLockError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () async throws -> T) async -> RedLockError? {
    do {
        _ = try await body()
        Issue.record("expected RedLockError \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RedLockError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RedLockError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

extension RedLockError {
    /// The servers heard from before the round was decided (a round stops listening at the first
    /// majority either way).
    var answered: [ServerReport] { servers.filter { $0.outcome.kind != .notAwaited } }
}

/// Runs `body` and returns its result, or records an issue and returns nil if it has not returned
/// within `limit` (see `boundedResult`: a hang fails the test rather than hanging the run).
func expectReturns<T: Sendable>(within limit: Duration, sourceLocation: SourceLocation = #_sourceLocation,
                                _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    let result = await boundedResult(within: limit, body)
    if result == nil { Issue.record("did not return within \(limit)", sourceLocation: sourceLocation) }
    return result
}
