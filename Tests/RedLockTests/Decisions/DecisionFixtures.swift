@testable import RedLock

/// Plans and instants for the decision tests: no server, no client, no real time.
enum DecisionFixtures {
    /// A plan for `servers` servers and `ttl` (defaults: drift 1 % + 2 ms, minimum validity TTL/10).
    static func plan(servers: Int, ttl: Duration = .seconds(10)) -> RoundPlan {
        let addresses = (1...servers).map { RedisServerAddress(endpoint: .tcp(host: "127.0.0.1", port: $0)) }
        // swiftlint:disable:next force_try
        return try! RoundPlan(resource: "decision-test", ttl: ttl, configuration: RedLockConfiguration(servers: addresses))
    }

    /// A fixed origin for the injected clocks.
    static let origin = ContinuousClock.now

    /// A deterministic generator (SplitMix64), for injected randomness.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
