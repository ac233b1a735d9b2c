import RedisIO
/// One server's answer to a command sent to every server.
package struct ServerReply: Sendable {
    /// The server, as configured.
    package var server: RedisServerAddress
    /// Its reply, or why it gave none (an error reply is a `.serverError` or `.authFailed` failure).
    package var result: ServerResult<RedisReply>
}

extension RedLockClient {
    /// The key beside `resource` where each master keeps the resource's fence (a decimal, no TTL;
    /// see `RedLockConfiguration.fencing`), for tools that show it.
    package static func fenceKey(for resource: String) -> String {
        LockScripts.fenceKey(for: resource)
    }

    /// The pub/sub channel on which each master announces a release of `resource` to waiting
    /// contenders (see `RedLockConfiguration.notifiesWaitersOnRelease`), for tools that check the
    /// rights it needs.
    package static func releaseChannel(for resource: String) -> String {
        LockScripts.releaseChannel(for: resource)
    }

    /// For each server, in configuration order, the dates of its TLS certificates: the server's from
    /// the current connection's handshake, and this client's own; nil for a plain server. Opens no
    /// connection: send a command first.
    ///
    /// - Throws: `RedLockError` `.clientShutDown`.
    package func tlsCertificates() async throws(RedLockError) -> [ServerTLSCertificates?] {
        try await onLoop { reactor, done in done(reactor.slots.map(\.tlsCertificates)) }
    }

    /// Sends one command to every server in parallel over the client's connections and waits for
    /// every answer, each bounded by the configured `tuning.serverTimeout` (default 1 s). For tools built
    /// on the library (cronlock's job control), not for deciding who holds a lock.
    ///
    /// - Parameters:
    ///   - arguments: the command and its arguments, binary-safe.
    ///   - key: the key the command is about (validated like a resource name).
    /// - Returns: one reply per server, in configuration order.
    /// - Throws: `RedLockError` `.invalidArgument` for a bad key, `.clientShutDown`.
    package func sendToEveryServer(_ arguments: [String], key: String) async throws(RedLockError) -> [ServerReply] {
        let plan = try RoundPlan.reading(key, configuration: configuration)
        let command = RedisCommand(arguments)
        let round = try await onLoop { reactor, done in reactor.runOnAll(command, plan: plan, completion: done) }
        try throwIfShutDown(round.shutDown)
        return zip(configuration.servers, zip(round.outcomes, round.replies)).map { server, answer in
            let (outcome, reply) = answer
            guard !outcome.isFailure, let reply else { return ServerReply(server: server, result: .failure(outcome)) }
            return ServerReply(server: server, result: .success(reply))
        }
    }
}
