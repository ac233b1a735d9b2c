import RedisIO

extension ServerOutcome {
    /// A reply that is not the answer the command expects: an error line (authentication errors
    /// told apart) or a reply of the wrong shape.
    init(unexpected reply: RedisReply) {
        guard case .error(let line) = reply else {
            self.init(.protocolError, detail: "unexpected reply \(reply)")
            return
        }
        // Redis refuses long commands from a client that has not authenticated before it even
        // parses them ("unauthenticated multibulk length"): it wants a password.
        if line.contains("unauthenticated") {
            self.init(.authFailed, detail: "NOAUTH (\(line))")
            return
        }
        let isAuthentication = line.hasPrefix("NOAUTH") || line.hasPrefix("WRONGPASS")
        self.init(isAuthentication ? .authFailed : .serverError, detail: line)
    }
}
