import Logging

/// Runs `body` with a new client for `configuration`, and shuts the client down when `body`
/// returns, throws or is cancelled.
///
/// ```swift
/// let configuration = try RedLockConfiguration(serverAddresses: ["redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3"])
/// try await withRedLockClient(configuration: configuration) { client in
///     try await client.withLock("reports:nightly", ttl: .seconds(30)) { _ in try await buildReport() }
/// }
/// ```
///
/// - Parameters:
///   - configuration: the servers and settings; validated first.
///   - logger: the background logger; default `configuration.logger`.
///   - isolation: where `body` runs; default the caller's.
///   - body: the work; the client must not escape it.
/// - Returns: what `body` returns.
/// - Throws: `RedLockError` `.invalidConfiguration` before `body` runs; otherwise what `body` throws.
public func withRedLockClient<Result>(
    configuration: RedLockConfiguration,
    logger: Logger? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (RedLockClient) async throws -> Result
) async throws -> Result {
    var configuration = configuration
    if let logger { configuration.logger = logger }
    let client = try RedLockClient(configuration: configuration)
    let result: Result
    do {
        result = try await body(client)
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
    return result
}
