import RedLock
import RedisTestSupport
import Testing
import TestLoad

@Suite("Authentication: passwords, ACL users, failures", needsRedis, .load(.timed))
struct AuthenticationTests {
    static let password = "correct horse"

    @Test func passwordInTheAddressAuthenticates() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: Self.password)
        let resource = uniqueResource()
        let client = try RedLockClient(configuration: .init(serverAddresses: cluster.servers.map { "redis://:correct%20horse@127.0.0.1:\($0.port)" }))
        let lock = try await client.acquire(resource, ttl: .seconds(5))
        #expect(try await cluster.holders(of: resource, value: lock.token) >= 2)
        try await client.release(lock)
        await client.shutdown()
    }

    @Test func passwordAndDatabaseTogetherWork() async throws {
        // Two handshake commands that must succeed (AUTH, then SELECT) ahead of the first command.
        let cluster = try await RedisCluster.start(count: 3, password: Self.password)
        let resource = uniqueResource()
        var configuration = try RedLockConfiguration(serverAddresses: cluster.servers.map { "redis://:correct%20horse@127.0.0.1:\($0.port)/2" })
        configuration.tuning.serverTimeout = .seconds(2)
        let client = try RedLockClient(configuration: configuration)
        let lock = try await client.acquire(resource, ttl: .seconds(5))
        let inDatabase2 = try await cluster.servers[0].command(["EVAL", "redis.call('select', 2) return redis.call('get', KEYS[1])", "1", resource])
        #expect(inDatabase2 == .string(lock.token))
        #expect(try await cluster.holders(of: resource) == 0, "nothing in database 0")
        try await client.release(lock)
        await client.shutdown()
    }

    @Test func configurationPasswordServesAddressesWithoutOne() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: Self.password)
        let resource = uniqueResource()
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.password = Self.password
        let client = try RedLockClient(configuration: configuration)
        try await client.release(try await client.acquire(resource, ttl: .seconds(5)))
        await client.shutdown()
    }

    @Test func wrongPasswordFailsWithAuthenticationDetailAndNeverPrintsThePassword() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: Self.password)
        let resource = uniqueResource()
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.password = "wrong-password-123"
        configuration.tuning.retryAttempts = 1
        let client = try RedLockClient(configuration: configuration)
        let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
        #expect(error?.answered.allSatisfy { $0.outcome.kind == .authFailed } == true)
        #expect(error?.description.contains("WRONGPASS") == true)
        #expect(error?.description.contains("wrong-password-123") == false)
        await client.shutdown()
    }

    @Test func missingPasswordFailsWithAuthenticationDetail() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: Self.password)
        let resource = uniqueResource()
        try await withClient(cluster, configure: { $0.tuning.retryAttempts = 1 }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
            #expect(error?.answered.allSatisfy { $0.outcome.kind == .authFailed } == true)
            #expect(error?.description.contains("NOAUTH") == true)
        }
    }

    @Test func aclUserWithPasswordAuthenticatesAndAWrongUserDoesNot() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "locker", "on", ">locker-pw", "~*", "+@all"])
        }
        let good = try RedLockClient(configuration: .init(serverAddresses: cluster.servers.map { "redis://locker:locker-pw@127.0.0.1:\($0.port)" }))
        try await good.release(try await good.acquire(resource, ttl: .seconds(5)))
        await good.shutdown()

        var configuration = try RedLockConfiguration(serverAddresses: cluster.servers.map { "redis://nobody:locker-pw@127.0.0.1:\($0.port)" })
        configuration.tuning.retryAttempts = 1
        let bad = try RedLockClient(configuration: configuration)
        let error = await expectRedLockError(.noQuorum) { try await bad.acquire(resource, ttl: .seconds(5)) }
        #expect(error?.answered.allSatisfy { $0.outcome.kind == .authFailed } == true)
        #expect(error?.description.contains("locker-pw") == false)
        #expect(error?.description.contains("nobody:***@") == true)
        await bad.shutdown()
    }

    @Test func aclUserWithoutPermissionIsToldWhichServerRefused() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "reader", "on", ">reader-pw", "~*", "+@read", "+@connection"])
        }
        var configuration = try RedLockConfiguration(serverAddresses: cluster.servers.map { "redis://reader:reader-pw@127.0.0.1:\($0.port)" })
        configuration.tuning.retryAttempts = 1
        let client = try RedLockClient(configuration: configuration)
        let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
        #expect(error?.answered.allSatisfy { $0.outcome.kind == .serverError && $0.outcome.detail?.hasPrefix("NOPERM") == true } == true)
        await client.shutdown()
    }

    @Test func waitingStopsAtOnceOnWrongCredentialsInsteadOfRetryingForever() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: Self.password)
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.password = "not-it"
        let client = try RedLockClient(configuration: configuration)
        let result = await expectReturns(within: .seconds(5)) {
            try await client.acquire(uniqueResource(), ttl: .seconds(5), wait: .forever)
        }
        if case .failure(let error as RedLockError)? = result {
            #expect(error.code == .noQuorum)
            #expect(error.answered.allSatisfy { $0.outcome.kind == .authFailed })
        } else {
            Issue.record("expected a prompt noQuorum, got \(String(describing: result))")
        }
        await client.shutdown()
    }
}
