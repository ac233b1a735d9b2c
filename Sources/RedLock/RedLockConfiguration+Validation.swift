extension RedLockConfiguration {
    /// Checks every setting, as `RedLockClient.init` does.
    ///
    /// - Throws: `RedLockError` `.invalidConfiguration` naming the first problem: no servers, a
    ///   server listed twice, or a setting out of range.
    public func validate() throws(RedLockError) {
        let configuration = self
        func invalid(_ message: String) -> RedLockError { RedLockError(.invalidConfiguration, message) }
        guard !configuration.servers.isEmpty else { throw invalid("no servers configured; give at least one (three or five independent masters recommended)") }
        var seen = Set<RedisServerAddress.Endpoint>()
        for server in configuration.servers {
            var endpoint = server.endpoint
            if case .tcp(let host, let port) = endpoint { endpoint = .tcp(host: host.lowercased(), port: port) }
            guard seen.insert(endpoint).inserted else {
                throw invalid("\(server) is listed twice; a majority needs independent servers")
            }
            if server.usesTLS, case .unix = server.endpoint { throw invalid("\(server): TLS is for TCP servers, not Unix sockets") }
        }
        if let timeout = configuration.serverTimeout, timeout <= .zero { throw invalid("serverTimeout must be positive") }
        if let minimum = configuration.minimumValidity, minimum < .zero { throw invalid("minimumValidity must not be negative") }
        guard (0..<0.5).contains(configuration.driftFactor) else { throw invalid("driftFactor must be in [0, 0.5)") }
        guard configuration.driftAllowance >= .zero else { throw invalid("driftAllowance must not be negative") }
        guard configuration.retryAttempts >= 1 else { throw invalid("retryAttempts must be at least 1") }
        guard configuration.retryDelay >= .milliseconds(1) else {
            throw invalid("retryDelay must be at least 1 ms: with none, a waiting acquire would retry as fast as the servers answer")
        }
        guard configuration.minimumReconnectDelay > .zero, configuration.minimumReconnectDelay <= configuration.maximumReconnectDelay else {
            throw invalid("reconnect delays must be positive, minimum ≤ maximum")
        }
    }
}
