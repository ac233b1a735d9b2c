import Foundation
@testable import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// `rediss://` against real TLS-only `redis-server`s, with certificates made by `openssl` at test
/// time (`TestCertificates`): verified connections, mutual TLS, every way a handshake can fail,
/// stalled servers, restarts and release notices.
@Suite("TLS: rediss:// masters, verified certificates, client certificates", needsRedis, .load(.timed))
struct TLSTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    /// Trusting the test CA only.
    var trusted: RedLockConfiguration.TLS { RedLockConfiguration.TLS(caFile: certificates.certificate("ca")) }

    /// Trusting the test CA and presenting the test client certificate.
    var withClientCertificate: RedLockConfiguration.TLS {
        var tls = trusted
        tls.certificateFile = certificates.certificate("client")
        tls.keyFile = certificates.key("client")
        return tls
    }

    func configuration(_ urls: [String], tls: RedLockConfiguration.TLS? = nil,
                       configure: (inout RedLockConfiguration) -> Void = { _ in }) throws -> RedLockConfiguration {
        try testConfiguration(urls) {
            $0.tls = tls ?? trusted
            $0.tuning.retryAttempts = 1
            $0.tuning.serverTimeout = .seconds(2)
            configure(&$0)
        }
    }

    /// The one server's outcome of an acquire that must fail.
    func failedOutcome(_ url: String, tls: RedLockConfiguration.TLS? = nil) async throws -> ServerOutcome? {
        try await withClient(configuration([url], tls: tls)) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }
            return error?.servers.first?.outcome
        }
    }

    // MARK: Working connections

    @Test func threeTLSMastersGrantAndReleaseWithAuthOverTLS() async throws {
        let cluster = try await RedisCluster.start(count: 3, password: "tls pass", tls: certificates.server())
        let resource = uniqueResource()
        #expect(cluster.servers.allSatisfy { $0.urlWithPassword.hasPrefix("rediss://") })
        try await withClient(configuration(cluster.servers.map(\.url)) { $0.password = "tls pass" }) { client in
            for _ in 0..<5 {
                let lock = try await client.acquire(resource, ttl: .seconds(5))
                #expect(try await cluster.holders(of: resource, value: lock.storedValue) == 3)
                try await client.release(lock)
            }
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func tlsAndPlainMastersMixInOneClient() async throws {
        let secure = try await RedisCluster.start(count: 2, tls: certificates.server())
        let plain = try await RedisServerProcess.start()
        let resource = uniqueResource()
        try await withClient(configuration(secure.urls + [plain.url])) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(5))
            #expect(try await secure.holders(of: resource, value: lock.storedValue) == 2)
            #expect(try await plain.command(["GET", resource]) == .string(lock.storedValue))
            try await client.release(lock)
        }
    }

    @Test func theServerNameDefaultsToTheHostAndCanBeSetForAnAddress() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server())
        try await withClient(configuration(["rediss://localhost:\(server.port)"])) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
        }
        // The per-server settings replace the client's: a name the certificate does not carry fails.
        var address = try RedisServerAddress(parsing: server.url)
        var named = trusted
        named.serverName = "elsewhere.example"
        address.tls = named
        let outcome = try await withClient(configuration([]) { $0.servers = [address] }) { client in
            await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }?.servers.first?.outcome
        }
        #expect(outcome?.kind == .certificateNameMismatch)
        #expect(outcome?.detail?.contains("elsewhere.example") == true)
    }

    @Test func mutualTLSWorksWithTheClientCertificateAndAnEncryptedKey() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server(requiresClientCertificate: true))
        try await withClient(configuration([server.url], tls: withClientCertificate)) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
        }
        var encrypted = withClientCertificate
        encrypted.keyFile = "\(certificates.directory)/client-encrypted.key"
        encrypted.keyPassphrase = TestCertificates.clientKeyPassphrase
        try await withClient(configuration([server.url], tls: encrypted)) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
        }
    }

    @Test func skippingVerificationAcceptsAnUnknownCertificate() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server("stranger"))
        let insecure = RedLockConfiguration.TLS(insecureSkipVerification: true)
        try await withClient(configuration([server.url], tls: insecure)) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
        }
    }

    // MARK: Failures, each its own outcome

    @Test func aServerCertificateFromAnUnknownCAIsNotTrusted() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server("stranger"))
        let outcome = try await failedOutcome(server.url)
        #expect(outcome?.kind == .certificateUntrusted, "\(String(describing: outcome))")
        // The system trust store does not know the test CA either.
        let systemStore = try await failedOutcome(server.url, tls: RedLockConfiguration.TLS())
        #expect(systemStore?.kind == .certificateUntrusted, "\(String(describing: systemStore))")
    }

    @Test func expiredAndNotYetValidCertificatesAreRejected() async throws {
        for name in ["expired", "future"] {
            let server = try await RedisServerProcess.start(tls: certificates.server(name))
            let outcome = try await failedOutcome(server.url)
            #expect(outcome?.kind == .certificateExpired, "\(name): \(String(describing: outcome))")
            #expect(outcome?.detail?.contains(name == "expired" ? "expired" : "not yet valid") == true, "\(String(describing: outcome))")
        }
    }

    @Test func aCertificateForAnotherNameIsRejected() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server("wrongname"))
        for host in ["127.0.0.1", "localhost"] {
            let outcome = try await failedOutcome("rediss://\(host):\(server.port)")
            #expect(outcome?.kind == .certificateNameMismatch, "\(host): \(String(describing: outcome))")
            #expect(outcome?.detail?.contains(host) == true)
        }
    }

    @Test func aServerThatRequiresAClientCertificateRejectsNoneAndAnUnknownOne() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server(requiresClientCertificate: true))
        let without = try await failedOutcome(server.url)
        #expect(without?.kind == .clientCertificateRejected, "\(String(describing: without))")
        var stranger = trusted
        stranger.certificateFile = certificates.certificate("strangerclient")
        stranger.keyFile = certificates.key("strangerclient")
        let unknown = try await failedOutcome(server.url, tls: stranger)
        #expect(unknown?.kind == .clientCertificateRejected, "\(String(describing: unknown))")
    }

    @Test func plainRedisToATLSPortIsClosedWithoutReply() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server())
        let outcome = try await failedOutcome("redis://127.0.0.1:\(server.port)")
        #expect(outcome?.kind == .closedWithoutReply, "\(String(describing: outcome))")
        #expect(outcome?.kind.description.contains("rediss://") == true)
    }

    @Test func tlsToAPlainPortIsNotTLSOrAHandshakeTimeout() async throws {
        // A plain Redis reads the TLS hello as an inline command: it answers an error when the
        // hello's random bytes hold a newline, and otherwise waits for one (a handshake timeout).
        let server = try await RedisServerProcess.start()
        let outcome = try await withClient(configuration(["rediss://127.0.0.1:\(server.port)"]) { $0.tuning.serverTimeout = .milliseconds(500) }) { client in
            await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }?.servers.first?.outcome
        }
        let notTLS = outcome?.kind == .notTLS && outcome?.detail?.contains("redis://") == true
        let stalled = outcome?.kind == .timedOut && outcome?.detail?.contains("TLS handshake") == true
        #expect(notTLS || stalled, "\(String(describing: outcome))")
    }

    @Test func missingOrUnusableFilesAreConfigurationErrorsNamingTheFile() async throws {
        let missing = "/nonexistent/redlock-ca.pem"
        let cases: [(RedLockConfiguration.TLS, String)] = [
            (RedLockConfiguration.TLS(caFile: missing), missing),
            (RedLockConfiguration.TLS(caDirectory: "/nonexistent/cadir"), "/nonexistent/cadir"),
            (RedLockConfiguration.TLS(caFile: "/etc/hostname"), "/etc/hostname"),
            (RedLockConfiguration.TLS(certificateFile: "/nonexistent/c.pem", keyFile: certificates.key("client")), "/nonexistent/c.pem"),
            (RedLockConfiguration.TLS(certificateFile: certificates.certificate("client"), keyFile: "/nonexistent/c.key"), "/nonexistent/c.key"),
            (RedLockConfiguration.TLS(certificateFile: certificates.certificate("client"), keyFile: certificates.key("server")), certificates.key("server")),
            (RedLockConfiguration.TLS(certificateFile: certificates.certificate("client"),
                                      keyFile: "\(certificates.directory)/client-encrypted.key"), "client-encrypted.key"),
        ]
        for (tls, named) in cases {
            var configuration = try RedLockConfiguration(serverAddresses: ["rediss://127.0.0.1:1"])
            configuration.tls = tls
            let error = await expectRedLockError(.invalidConfiguration) { try RedLockClient(configuration: configuration) }
            #expect(error?.message.contains(named) == true, "\(String(describing: error))")
        }
        // Plain servers never load TLS files.
        var plain = try RedLockConfiguration(serverAddresses: ["redis://127.0.0.1:1"])
        plain.tls = RedLockConfiguration.TLS(caFile: missing)
        await (try RedLockClient(configuration: plain)).shutdown()
    }

    // MARK: Same behaviour as plain connections

    @Test func aStoppedServerMidHandshakeTimesOutAndTheOthersDecide() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server())
        cluster.servers[0].pause()
        defer { cluster.servers[0].resume() }
        try await withClient(configuration(cluster.urls) { $0.tuning.serverTimeout = .milliseconds(300) }) { client in
            let lock = try await client.acquire(uniqueResource(), ttl: .seconds(5))
            try await client.release(lock)
            cluster.servers[1].pause()
            defer { cluster.servers[1].resume() }
            let started = ContinuousClock.now
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }
            #expect(ContinuousClock.now - started < .seconds(3))
            // Server 1 stalls mid-round on a connection that was open; server 0 never finished a handshake.
            let stalled = error?.servers.filter { $0.outcome.kind == .timedOut || $0.outcome.kind == .backingOff } ?? []
            #expect(stalled.count == 2, "\(String(describing: error))")
        }
    }

    @Test func aHandshakeThatStallsIsReportedAsAHandshakeTimeout() async throws {
        let server = try await RedisServerProcess.start(tls: certificates.server())
        server.pause()
        defer { server.resume() }
        let started = ContinuousClock.now
        let outcome = try await withClient(configuration([server.url]) { $0.tuning.serverTimeout = .milliseconds(300) }) { client in
            await expectRedLockError(.noQuorum) { try await client.acquire(uniqueResource(), ttl: .seconds(5)) }?.servers.first?.outcome
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(outcome?.kind == .timedOut && outcome?.detail?.contains("TLS handshake") == true, "\(String(describing: outcome))")
    }

    @Test func aRestartedTLSServerIsReconnected() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server())
        let resource = uniqueResource()
        try await withClient(configuration(cluster.urls) { $0.tuning.retryAttempts = 3 }) { client in
            try await client.release(try await client.acquire(resource, ttl: .seconds(5)))
            for server in cluster.servers { server.stop() }
            for server in cluster.servers { try await server.restart() }
            let reconnected = try await eventually(within: .seconds(10)) {
                guard let lock = try? await client.acquire(resource, ttl: .seconds(5)) else { return false }
                try await client.release(lock)
                return true
            }
            #expect(reconnected)
        }
    }

    @Test func releaseNoticesTravelOverTLS() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server())
        let resource = uniqueResource()
        let holder = try RedLockClient(configuration: configuration(cluster.urls))
        let waiter = try RedLockClient(configuration: configuration(cluster.urls) { $0.tuning.retryDelay = .seconds(10) })
        let held = try await holder.acquire(resource, ttl: .seconds(60))
        let waiting = Task { try await waiter.acquire(resource, ttl: .seconds(60), wait: .upTo(.seconds(60))) }
        #expect(try await eventually { try await cluster.subscribers(of: LockScripts.releaseChannel(for: resource)) == 3 })
        try await Task.sleep(for: .milliseconds(300))
        let released = ContinuousClock.now
        try await holder.release(held)
        let lock = try await waiting.value
        #expect(ContinuousClock.now - released < .seconds(3), "woken by the notice, not by a 5-15 s poll")
        try await waiter.release(lock)
        await holder.shutdown()
        await waiter.shutdown()
    }
}
