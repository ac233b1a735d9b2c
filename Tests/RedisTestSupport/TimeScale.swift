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
