import RedLock
import RedisTestSupport
import Testing

@Suite("Acquire and release on real servers", needsRedis)
struct AcquireTests {
    @Test("acquire and release at N = 1, 3, 5", arguments: [1, 3, 5])
    func acquireAndReleaseAtEachClusterSize(count: Int) async throws {
        let cluster = try RedisCluster(count: count)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(10))
            #expect(lock.token.count == 32)
            #expect(lock.grantedBy.count >= count / 2 + 1)
            #expect(lock.remainingValidity > .seconds(9))
            #expect(try cluster.holders(of: resource, value: lock.token) == count)
            try await client.release(lock)
            #expect(try cluster.holders(of: resource) == 0)
        }
    }
}
