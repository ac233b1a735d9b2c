import Foundation
import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// Two addresses of one server are a configuration error, found from each server's `run_id`
/// (read in the handshake) before anything is granted.
@Suite("One server, one vote: the same server under two addresses", needsRedis, .load(.timed))
struct OneServerOneVoteTests {
    @Test(arguments: ServerAlias.allCases)
    func twoAddressesOfOneServerAreAConfigurationErrorNamingBoth(_ alias: ServerAlias) async throws {
        let cluster = try await RedisCluster.start(count: 2)
        let (a, b) = (cluster.servers[0], cluster.servers[1])
        let second = alias.url(of: a)
        let resource = uniqueResource()
        try await withClient([a.url, second, b.url]) { client in
            // A and B alone are a majority of three: only the identity check stops the grant.
            let error = await expectRedLockError(.invalidConfiguration) { try await client.acquire(resource, ttl: .seconds(5)) }
            let text = error?.description ?? ""
            #expect(text.contains("127.0.0.1:\(a.port)") && text.contains(second.dropFirst("redis://".count)) && text.contains("same server"), "\(text)")
        }
        #expect(try await cluster.holders(of: resource) == 0, "the failed round left nothing behind")
    }

    /// A's unix socket is moved away while the client starts, so that address fails and A and B
    /// grant a lock; once the socket is back, the next round finds the second address is A too,
    /// and the extension (whose two confirmations from A would be one vote) throws.
    @Test func anExtensionThrowsOnceTwoAddressesTurnOutToBeOneServer() async throws {
        let cluster = try await RedisCluster.start(count: 2)
        let (a, b) = (cluster.servers[0], cluster.servers[1])
        let socket = a.directory.appendingPathComponent("redis.sock").path
        let hidden = socket + ".hidden"
        #expect(rename(socket, hidden) == 0)
        try await withClient([a.url, a.unixURL, b.url], configure: { $0.minimumReconnectDelay = .milliseconds(1); $0.maximumReconnectDelay = .milliseconds(1) }) { client in
            let lock = try await client.acquire(uniqueResource(), ttl: .seconds(10))
            #expect(rename(hidden, socket) == 0)
            // Each extension reconnects the socket address (past its 1 ms back-off) until its
            // handshake has said who it is; from then on, extensions throw.
            var thrown: RedLockError?
            for _ in 0..<50 where thrown == nil {
                do throws(RedLockError) { _ = try await client.extend(lock) } catch { thrown = error }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(thrown?.code == .invalidConfiguration, "\(String(describing: thrown))")
            #expect(thrown?.message.contains("same server") == true, "\(String(describing: thrown))")
            try? await client.release(lock)
        }
    }

    @Test func independentServersWithTheSameDatabaseNumberAreAccepted() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        try await withClient(cluster.servers.map { "\($0.url)/2" }) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
        }
    }
}
