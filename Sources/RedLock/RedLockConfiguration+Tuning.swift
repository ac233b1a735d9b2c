extension RedLockConfiguration {
    /// The settings few callers change: per-server timeout, minimum validity, clock drift, retries
    /// and reconnect back-off. Every one has a documented default; `RedLockConfiguration.validate()`
    /// checks their ranges.
    public struct Tuning: Sendable, Hashable {
        /// Each server's budget per round: a server that has not answered by then counts as failed
        /// for that round, and its connection is replaced. Rounds are decided by the first majority,
        /// so this bounds how long a hung *majority* can hold a call up. Default `nil`: 1/10 of the
        /// call's TTL, between 1 ms and 1 s.
        public var serverTimeout: Duration?

        /// The least validity an acquisition must leave to count as a grant: a round that took so
        /// long that less is left when it is decided, or when the caller's task gets the lock,
        /// releases the lock and fails (retried as any failed round). Default
        /// `nil`: a tenth of the call's TTL, at least 1 ms. A round that answers within the default
        /// `serverTimeout` (TTL/10) always leaves more; the minimum only turns away the grants a slow
        /// round returns when `serverTimeout` is set near the TTL, whose few milliseconds would expire
        /// before the caller could act or extend (`withLock` extends at TTL/3).
        public var minimumValidity: Duration?

        /// The share of the TTL assumed lost to clock drift between hosts. Default 0.01.
        public var driftFactor: Double = 0.01

        /// Added to the drift for timer granularity. Default 2 ms.
        /// Validity = TTL − elapsed − (TTL × `driftFactor` + `driftAllowance`).
        public var driftAllowance: Duration = .milliseconds(2)

        /// How many rounds one `acquire` without waiting may run when rounds fail for reasons that
        /// may pass (votes split between contenders, servers unreachable). Default 3. A key that another
        /// holder has on a majority is not retried unless the call waits.
        public var retryAttempts: Int = 3

        /// The pause between rounds, jittered uniformly in [½×, 1½×] so contenders spread out.
        /// At least 1 ms. Default 100 ms.
        public var retryDelay: Duration = .milliseconds(100)

        /// The first delay before reconnecting to a server that failed; it doubles after each
        /// consecutive failure up to `maximumReconnectDelay`. While it runs, the server is skipped.
        /// Default 50 ms.
        public var minimumReconnectDelay: Duration = .milliseconds(50)

        /// The longest reconnect back-off. Default 2 s.
        public var maximumReconnectDelay: Duration = .seconds(2)

        /// Every setting at its default.
        public init() {}
    }

    // Shorthands for the library's own reads.
    var serverTimeout: Duration? { tuning.serverTimeout }
    var minimumValidity: Duration? { tuning.minimumValidity }
    var driftFactor: Double { tuning.driftFactor }
    var driftAllowance: Duration { tuning.driftAllowance }
    var retryAttempts: Int { tuning.retryAttempts }
    var retryDelay: Duration { tuning.retryDelay }
    var minimumReconnectDelay: Duration { tuning.minimumReconnectDelay }
    var maximumReconnectDelay: Duration { tuning.maximumReconnectDelay }
}
