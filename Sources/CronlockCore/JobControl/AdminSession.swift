import ArgumentParser
import RedLock

#if canImport(Glibc)
import Glibc
#endif

/// One job-control admin command's connection to the masters (`pause`, `stop`, `history`, …, and
/// the dashboard's): sends commands to every master and judges the answers by majority. Failures
/// throw `JobControlError`.
package struct AdminSession: Sendable {
    package let client: RedLockClient
    /// The key prefix of the jobs (`--prefix`).
    package let prefix: String

    /// A session over `client`'s masters for the jobs under `prefix`; the caller shuts `client` down.
    package init(client: RedLockClient, prefix: String) {
        self.client = client
        self.prefix = prefix
    }

    /// Runs `body` with a session on the masters of `connection`, closing it afterwards.
    static func with<Result>(_ connection: ConnectionOptions, _ body: (AdminSession) async throws -> Result) async throws -> Result {
        let logger = CronlockMain.makeLogger(connection)
        let configuration = try connection.configuration(environment: ProcessEnvironment.current(), logger: logger)
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.message)
        }
        return try await withRedLockClient(configuration: configuration) { client in
            try await body(AdminSession(client: client, prefix: connection.prefix))
        }
    }

    package var quorum: Int { client.quorum }

    /// `arguments` on every master, one reply each.
    package func everyServer(_ arguments: [String], key: String) async throws -> [ServerReply] {
        do {
            return try await client.sendToEveryServer(arguments, key: key)
        } catch {
            throw JobControlError(CronlockExit.usage, "\(error)")
        }
    }

    /// A Lua script on every master; `readOnly` sends it with `EVAL_RO`, so that an ACL user
    /// with read-only access to its keys may run it.
    package func script(_ source: String, keys: [String], arguments: [String], readOnly: Bool = false) async throws -> [ServerReply] {
        try await everyServer([readOnly ? "EVAL_RO" : "EVAL", source, String(keys.count)] + keys + arguments, key: keys[0])
    }

    /// Throws unless a majority of `replies` succeeded: exit 77 (naming the server) when a master
    /// denied permission (Redis ACL `NOPERM`), else 69 with every failing master and why.
    package func requireMajority(_ replies: [ServerReply], to action: String) throws {
        // Error replies arrive as failures (`sendToEveryServer`).
        let failures = replies.compactMap { reply -> (RedisServerAddress, ServerOutcome)? in
            if case .failure(let outcome) = reply.result { (reply.server, outcome) } else { nil }
        }
        guard replies.count - failures.count < quorum else { return }
        let described = failures.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
        if let denied = failures.first(where: { $0.1.detail?.hasPrefix("NOPERM") == true }) {
            throw JobControlError(CronlockExit.permissionDenied, "permission denied to \(action) on \(denied.0): \(denied.1.detail ?? "")")
        }
        throw JobControlError(CronlockExit.noQuorum, "could not \(action) on a majority (\(quorum) of \(replies.count)) of servers: \(described)")
    }

    /// The group of job `name`: `explicit` when given, else what the masters' job registry holds
    /// (the group of its last run), else the default group. Without a majority's answer the group
    /// is unknown, so it throws rather than act on the default group by mistake.
    package func group(of name: String, explicit: String?) async throws -> String {
        if let explicit { return explicit }
        let registry = JobKeys.registry(prefix: prefix)
        let replies = try await everyServer(["HGET", registry, name], key: registry)
        try requireMajority(replies, to: "look up the group of job \"\(name)\"")
        let groups = replies.compactMap { reply -> String? in
            if case .success(let value) = reply.result { return value.text } else { return nil }
        }
        return Dictionary(groups.map { ($0, 1) }, uniquingKeysWith: +).max { $0.value < $1.value }?.key ?? JobKeys.defaultGroup
    }

    /// Who is asking, for the record: `user@host`.
    package static var requester: String {
        let environment = ProcessEnvironment.current()
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "uid\(getuid())"
        return "\(user)@\(ConnectionOptions.hostName())"
    }
}
