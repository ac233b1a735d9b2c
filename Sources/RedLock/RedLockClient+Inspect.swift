import Logging
import RedisIO

extension RedLockClient {
    /// Reads who holds `resource` on every server (value and remaining TTL, one command each, in
    /// parallel), without changing anything. For status displays and diagnostics, not for deciding
    /// who may act: only `acquire` decides that.
    ///
    /// Each server gets the configured `tuning.serverTimeout` (default 1 s here).
    ///
    /// - Throws: `RedLockError` `.invalidArgument` for a bad resource name, `.clientShutDown`.
    ///   Unreachable servers are reported per server, not thrown.
    public func inspect(_ resource: String, logger: Logger? = nil) async throws(RedLockError) -> LockInspection {
        let plan = try RoundPlan.reading(resource, configuration: configuration)
        let command = LockScripts.inspect.command(keys: [resource], arguments: [])
        let round = try await onLoop { reactor, done in reactor.runOnAll(command, plan: plan, completion: done) }
        try throwIfShutDown(round.shutDown)
        let states = zip(reports(round.outcomes), round.replies).map { report, reply in
            Self.serverState(report, reply)
        }
        return LockInspection(resource: resource, servers: states, quorum: plan.quorum)
    }

    private static func serverState(_ report: ServerReport, _ reply: RedisReply?) -> LockInspection.ServerState {
        var state = LockInspection.ServerState(server: report.server, outcome: report.outcome)
        guard case .array(let parts)? = reply, parts.count == 2 else { return state }
        if case .bulk(let value) = parts[0] { state.holder = LockInspection.Holder(storedValue: value) }
        if case .integer(let milliseconds) = parts[1], milliseconds >= 0 { state.timeToLive = .milliseconds(milliseconds) }
        return state
    }
}
