import Foundation

/// How much slower than usual this run may be: `REDLOCK_TIME_SCALE` (e.g. 5 under
/// ThreadSanitizer, which `scripts/sanitize` sets), at least 1. Tests multiply timing
/// *tolerances* by it; the configured deadlines under test are not stretched, so a check still
/// fails when the code ignores one.
public let timeScale: Double = {
    guard let text = ProcessInfo.processInfo.environment["REDLOCK_TIME_SCALE"], let value = Double(text), value.isFinite else { return 1 }
    return max(1, value)
}()

extension Duration {
    /// This tolerance stretched by `timeScale`, for runs under sanitizers or on loaded machines.
    public var scaled: Duration { self * timeScale }
}

/// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
public func eventually(within limit: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
