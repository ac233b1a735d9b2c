import CHiredis
@testable import RedLock
import RedisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
import TestLoad
#endif
import RedisIO

/// A command that hiredis refuses to queue (`redisAppendFormattedCommand` fails, as it does when
/// out of memory) fails its connection at once, with everything queued on it: a handler left
/// waiting for a command that never went out would be handed the next command's reply.
@Suite("An append that fails fails the connection", needsRedis, .load(.timed))
struct AppendFailureTests {
    @Test func aFailedAppendFailsTheConnectionAndEveryWaitingCommand() async throws {
        let server = try await RedisServerProcess.start()
        let connection = RedisConnection(id: 1)
        #expect(connection.connect(to: .tcp(ip: "127.0.0.1", port: server.port)) == nil)
        var answers: [String: ServerResult<RedisReply>] = [:]
        connection.append(RedisCommand.encode(["ECHO", "first"])) { answers["first"] = $0 }
        connection.appendToContext = { _, _, _ in REDIS_ERR }  // as hiredis does when out of memory
        connection.append(RedisCommand.encode(["ECHO", "lost"])) { answers["lost"] = $0 }
        connection.appendToContext = redisAppendFormattedCommand
        connection.append(RedisCommand.encode(["ECHO", "second"])) { answers["second"] = $0 }

        #expect(connection.state == .closed, "the connection is failed at once")
        #expect(connection.failure?.kind == .connectionClosed)
        for name in ["first", "lost", "second"] {
            guard case .failure(let outcome)? = answers[name] else {
                Issue.record("\(name) got \(String(describing: answers[name])), not the connection's failure")
                continue
            }
            #expect(outcome.kind == .connectionClosed, "\(outcome)")
        }
        #expect(answers["second"] != .success(.bulk("first")), "no reply is handed to the wrong command")
        _ = server
    }

    /// Through a client: a server whose connection failed that way is reconnected by the next
    /// round, which then succeeds there.
    @Test func theServerIsReconnectedAfterAFailedAppend() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        try await withClient(cluster) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
            try await client.onLoop { reactor, done in
                reactor.slots[0].current?.appendToContext = { _, _, _ in REDIS_ERR }
                done(())
            }
            let first = uniqueResource(), second = uniqueResource()
            let failed = try await client.acquire(first, ttl: .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await cluster.servers[0].command(["EXISTS", first]) == .integer(0), "the failed append cost that server's vote")
            try await client.release(failed)
            let lock = try await client.acquire(second, ttl: .seconds(5))
            #expect(await eventually { (try? await cluster.holders(of: second, value: lock.token)) == 3 }, "the server was reconnected")
            try await client.release(lock)
        }
    }
}
