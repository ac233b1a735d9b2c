import RedLock
import RedisTestSupport
import Testing

/// Two addresses of one server are a configuration error, found from each server's `run_id`
/// (read in the handshake) before anything is granted.
@Suite("One server, one vote: the same server under two addresses", needsRedis)
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

    @Test func independentServersWithTheSameDatabaseNumberAreAccepted() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        try await withClient(cluster.servers.map { "\($0.url)/2" }) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
        }
    }
}
