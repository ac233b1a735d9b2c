import Foundation
@testable import RedLock
import RedisTestSupport
import Testing
import TestLoad

@Suite("Server failures: stopped, killed, refusing", needsRedis, .load(.timed))
struct ServerFailureTests {
    /// A generous per-server timeout, so "did not wait for the stopped servers" is obvious.
    static let serverTimeout = Duration.seconds(2)

    @Test("a stopped minority of five does not slow acquisition down", arguments: [1, 2])
    func stoppedMinorityIsNotWaitedFor(stopped: Int) async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = Self.serverTimeout }) { client in
            let warmUp = try await client.acquire(resource, ttl: .seconds(10))
            try await client.release(warmUp)
            cluster.servers.suffix(stopped).forEach { $0.pause() }
            defer { cluster.servers.suffix(stopped).forEach { $0.resume() } }
            let start = ContinuousClock.now
            let lock = try await client.acquire(resource, ttl: .seconds(10))
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < Self.serverTimeout / 4, "acquire waited \(elapsed) for stopped servers")
            #expect(lock.grantedBy.count >= 3)
            try await client.release(lock)
        }
    }

    @Test func releaseDoesNotWaitForAServerThatKeepsFailing() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        let timeout = Duration.milliseconds(500).scaled
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = timeout; $0.tuning.maximumReconnectDelay = .milliseconds(50) }) { client in
            try await client.release(try await client.acquire(resource, ttl: .seconds(10)))
            cluster.servers[4].pause()
            defer { cluster.servers[4].resume() }
            try await client.release(try await client.acquire(resource, ttl: .seconds(10)))  // learns that it is stopped
            var slowest = Duration.zero
            for _ in 0..<8 {
                try await Task.sleep(for: .milliseconds(60))  // past the back-off: the client reconnects each time
                let start = ContinuousClock.now
                try await client.release(try await client.acquire(resource, ttl: .seconds(10)))
                slowest = max(slowest, ContinuousClock.now - start)
            }
            #expect(slowest < timeout / 2, "a release waited \(slowest) for the stopped server")
        }
    }

    @Test func stoppedMajorityFailsByTheDeadlineWithPerServerDetail() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        let timeout = Duration.milliseconds(300)
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = timeout; $0.tuning.retryAttempts = 1 }) { client in
            cluster.servers.prefix(3).forEach { $0.pause() }
            defer { cluster.servers.prefix(3).forEach { $0.resume() } }
            let start = ContinuousClock.now
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(10)) }
            let elapsed = ContinuousClock.now - start
            // One round (timeout) plus the clean-up release on the healthy servers (bounded by another).
            #expect(elapsed < timeout * 2 + Duration.milliseconds(500).scaled, "took \(elapsed)")
            let kinds = error?.servers.map(\.outcome.kind) ?? []
            #expect(kinds.filter { $0 == .timedOut }.count == 3)
            #expect(kinds.filter { $0 == .granted }.count == 2)
            #expect(error?.description.contains("timed out") == true)
            #expect(error?.description.contains("127.0.0.1:\(cluster.servers[0].port)") == true)
        }
        for server in cluster.servers.suffix(2) {
            #expect(try await server.keys(resource).isEmpty, "the healthy servers keep nothing")
        }
    }

    @Test func stoppedServerAppliesSetAndReleaseInOrderWhenItResumes() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let timeout = Duration.milliseconds(200)
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = timeout; $0.tuning.retryAttempts = 1 }) { client in
            try await Task.sleep(for: .milliseconds(50))
            cluster.servers.prefix(2).forEach { $0.pause() }
            await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(30)) }
            cluster.servers.prefix(2).forEach { $0.resume() }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(try await cluster.holders(of: resource) == 0, "a late SET must be followed by its release on the same connection")
    }

    @Test func refusedServersAreReportedByAddress() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        cluster.servers.prefix(2).forEach { $0.stop() }
        try await withClient(cluster, configure: { $0.tuning.retryAttempts = 2 }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
            let failing = error?.servers.filter { $0.outcome.isFailure } ?? []
            #expect(failing.count == 2)
            #expect(failing.allSatisfy { [.connectionFailed, .connectionClosed, .backingOff].contains($0.outcome.kind) })
        }
        #expect(try await cluster.servers[2].keys(resource).isEmpty)
    }

    @Test func aServerThatAnswersErrorsIsNamedWithItsErrorLine() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        // The key is a list on two servers: SET … GET answers WRONGTYPE there.
        for server in cluster.servers.prefix(2) { try await server.command(["RPUSH", resource, "x"]) }
        try await withClient(cluster, configure: { $0.tuning.retryAttempts = 1 }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
            let errors = error?.servers.filter { $0.outcome.kind == .serverError } ?? []
            #expect(errors.count == 2)
            #expect(errors.allSatisfy { $0.outcome.detail?.hasPrefix("WRONGTYPE") == true })
        }
        #expect(try await cluster.servers[2].keys(resource).isEmpty)
    }

    @Test func outOfMemoryServersRefuseAndNothingIsLeft() async throws {
        let cluster = try await RedisCluster.start(count: 3, extraArguments: ["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"])
        let resource = uniqueResource()
        for server in cluster.servers.prefix(2) {
            try await server.command(["DEBUG", "POPULATE", "20000", "filler", "100"])
        }
        try await withClient(cluster, configure: { $0.tuning.retryAttempts = 1 }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
            #expect(error?.servers.filter { $0.outcome.detail?.hasPrefix("OOM") == true }.count == 2)
        }
        #expect(try await cluster.holders(of: resource) == 0)
    }

    @Test func aListenerThatIsNotRedisFailsClearlyWithoutHanging() async throws {
        let cluster = try await RedisCluster.start(count: 2)
        let garbage = try GarbageServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n")
        let silent = try GarbageServer(reply: nil)
        let resource = uniqueResource()
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls + [garbage.url, silent.url])
        configuration.tuning.serverTimeout = .milliseconds(300)
        configuration.tuning.retryAttempts = 1
        let client = try RedLockClient(configuration: configuration)
        let start = ContinuousClock.now
        let error = await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
        #expect(ContinuousClock.now - start < Duration.seconds(2).scaled)
        let kinds = error?.servers.map(\.outcome.kind) ?? []
        #expect(kinds[2] == .protocolError || kinds[2] == .connectionClosed)
        #expect(kinds[3] == .timedOut)
        await client.shutdown()
        #expect(try await cluster.holders(of: resource) == 0)
    }

    @Test func aLockTakenWithoutEveryServerReportsTheOthersAndWhy() async throws {
        let cluster = try await RedisCluster.start(count: 4)
        let garbage = try GarbageServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n")
        let resource = uniqueResource()
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls + [garbage.url])
        configuration.tuning.serverTimeout = .milliseconds(300)
        let client = try RedLockClient(configuration: configuration)
        cluster.servers[3].pause()
        defer { cluster.servers[3].resume() }
        let start = ContinuousClock.now
        let lock = try await client.acquire(resource, ttl: .seconds(10))
        #expect(lock.acquisitionReports.count == 5)
        #expect(lock.acquisitionReports.filter { $0.outcome.kind == .granted }.map(\.server) == lock.grantedBy)
        let reports = await lock.finalAcquisitionReports()
        #expect(ContinuousClock.now - start < Duration.seconds(2).scaled, "bounded by the per-server timeout")
        #expect(reports.map(\.server) == configuration.servers)
        #expect(reports.prefix(3).allSatisfy { $0.outcome.kind == .granted }, "\(reports)")
        #expect(reports[3].outcome.kind == .timedOut, "the stopped server: \(reports)")
        #expect([.protocolError, .connectionClosed].contains(reports[4].outcome.kind), "the listener that is not Redis: \(reports)")
        #expect(lock.acquisitionReports.map(\.outcome) == reports.map(\.outcome), "complete once every server answered")
        try await client.release(lock)
        await client.shutdown()
    }

    /// Plain and over TLS (`rediss://`).
    @Test(arguments: [false, true])
    func noFileDescriptorOrThreadGrowthWhenAServerIsKilledAndRestarted(tls: Bool) async throws {
        let certificates = tls ? try TestCertificates.shared() : nil
        let cluster = try await RedisCluster.start(count: 3, tls: certificates?.server())
        let resource = uniqueResource()
        // A generous per-server timeout: a stall of the (shared, loaded) test machine must not
        // retire a connection, which legitimately stays open beside its replacement until it drains.
        let client = try makeClient(cluster) {
            $0.tuning.minimumReconnectDelay = .milliseconds(5)
            $0.tuning.maximumReconnectDelay = .milliseconds(20)
            $0.tuning.serverTimeout = .seconds(3)
            if let certificates { $0.tls = RedLockConfiguration.TLS(caFile: certificates.certificate("ca")) }
        }
        var mostConnections = 0
        var whenMost = ""
        for round in 0..<300 {
            if round == 100 { cluster.servers[0].stop() }
            if round == 200 { try await cluster.servers[0].restart() }
            let lock = try await client.acquire(resource, ttl: .seconds(5))
            try await client.release(lock)
            let connections = try cluster.connectionDetails()
            if connections.count > mostConnections {
                mostConnections = connections.count
                whenMost = "round \(round): " + connections.joined(separator: "; ")
            }
        }
        #expect(mostConnections <= 3,
                "one connection per server, whatever happened; servers on ports \(cluster.servers.map(\.port)), \(whenMost)")
        try await Task.sleep(for: .milliseconds(50))
        try await client.release(try await client.acquire(resource, ttl: .seconds(5)))
        #expect(try cluster.connectionsFromThisProcess() == 3, "the restarted server was reconnected")
        await client.shutdown()
        #expect(client.loop.hasStopped, "the I/O thread outlived shutdown")
        #expect(try cluster.connectionsFromThisProcess() == 0, "connections leaked past shutdown")
    }

    @Test("acquire returns when no server can be asked, with retries", arguments: [(1, 1), (3, 2), (5, 3)])
    func acquireReturnsWhenEveryAskableServerIsGone(count: Int, stopped: Int) async throws {
        let cluster = try await RedisCluster.start(count: count)
        let resource = uniqueResource()
        let client = try makeClient(cluster) { $0.tuning.serverTimeout = .milliseconds(100); $0.tuning.retryAttempts = 6 }
        try await client.release(try await client.acquire(resource, ttl: .seconds(5)))
        cluster.servers.prefix(stopped).forEach { $0.pause() }
        defer { cluster.servers.prefix(stopped).forEach { $0.resume() } }
        let result = await expectReturns(within: .seconds(10)) {
            try await client.acquire(resource, ttl: .seconds(5))
        }
        if case .success = result { Issue.record("acquired with a majority stopped") }
        for server in cluster.servers.dropFirst(stopped) {
            #expect(try await server.keys(resource).isEmpty, "nothing of ours on a healthy server")
        }
        await client.shutdown()
    }

    @Test func serversSkippedDuringBackOffDoNotCutTheRoundShortBeforeEverySetIsSent() async throws {
        let cluster = try await RedisCluster.start(count: 5)
        let resource = uniqueResource()
        let client = try makeClient(cluster) { $0.tuning.serverTimeout = .milliseconds(50); $0.tuning.retryAttempts = 1; $0.tuning.maximumReconnectDelay = .seconds(5) }
        try await client.release(try await client.acquire(resource, ttl: .seconds(5)))
        cluster.servers.prefix(3).forEach { $0.pause() }
        defer { cluster.servers.prefix(3).forEach { $0.resume() } }
        for _ in 0..<5 {
            await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(10)) }
        }
        for server in cluster.servers.suffix(2) {
            #expect(try await server.keys(resource).isEmpty, "a round decided by skipped servers must still release what it sent")
        }
        await client.shutdown()
    }

    @Test func retiredConnectionsCloseAfterTheirLingerEvenWhenNothingElseHappens() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let client = try makeClient(cluster) { $0.tuning.serverTimeout = Duration.milliseconds(50).scaled }
        try await client.release(try await client.acquire(resource, ttl: .seconds(2)))
        cluster.servers[0].pause()
        defer { cluster.servers[0].resume() }
        let lock = try await client.acquire(resource, ttl: .seconds(2))
        try await Task.sleep(for: .milliseconds(200))
        #expect(try cluster.connectionsFromThisProcess(to: [cluster.servers[0]]) == 1, "retired, still draining")
        try await Task.sleep(for: .seconds(2) + Duration.milliseconds(500).scaled)
        #expect(try cluster.connectionsFromThisProcess(to: [cluster.servers[0]]) == 0, "closed at its linger deadline without any I/O")
        _ = lock
        await client.shutdown()
    }

    @Test func wrongPasswordBacksOffInsteadOfReconnectingEveryRound() async throws {
        let cluster = try await RedisCluster.start(count: 1, password: "right")
        let resource = uniqueResource()
        let client = try makeClient(cluster) { $0.password = "wrong"; $0.tuning.retryAttempts = 1 }
        for _ in 0..<50 {
            await expectRedLockError(.noQuorum) { try await client.acquire(resource, ttl: .seconds(5)) }
        }
        await client.shutdown()
        guard case .string(let stats) = try await cluster.servers[0].command(["INFO", "stats"]),
              let line = stats.split(separator: "\r\n").first(where: { $0.hasPrefix("total_connections_received:") }),
              let received = Int(line.split(separator: ":")[1]) else { Issue.record("no INFO stats"); return }
        #expect(received < 15, "\(received) connections for 50 rounds")
    }

    @Test func concurrentShutdownsOfManyClientsDoNotKillTheProcess() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                guard let client = try? makeClient(cluster) else { continue }
                for _ in 0..<3 { group.addTask { await client.shutdown() } }
            }
        }
    }

    @Test func aHeldLockWithAMinorityDownIsHeldElsewhereNotNoQuorum() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        cluster.servers[0].stop()
        let holder = try makeClient(cluster)
        let rival = try makeClient(cluster)
        let lock = try await holder.acquire(resource, ttl: .seconds(10))
        let error = await expectRedLockError(.heldElsewhere) { try await rival.acquire(resource, ttl: .seconds(10)) }
        #expect(error?.message.contains("could not answer") == true)
        try await holder.release(lock)
        await holder.shutdown()
        await rival.shutdown()
    }

    @Test func aReleaseWaitsForARecoveredServerWhenTheOthersAreNotAMajority() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        // One round per call: a second timeout in a row would put the server in reconnect back-off,
        // and a release sent then cannot reach it at all (and rightly says so).
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = .milliseconds(300).scaled; $0.tuning.retryAttempts = 1 }) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(30))
            cluster.servers[0].stop()
            // A round that times out on the second server puts it in a failure streak.
            cluster.servers[1].pause()
            _ = try? await client.tryAcquire(uniqueResource(), ttl: .seconds(30))
            cluster.servers[1].resume()
            // The first server is gone and the third alone is no majority: the release must wait
            // for the second (its release queued on the lock's own connection) rather than report
            // "could not be reached" for a lock it did release.
            try await client.release(lock)
            #expect(try await cluster.servers[1].command(["EXISTS", resource]) == .integer(0))
            #expect(try await cluster.servers[2].command(["EXISTS", resource]) == .integer(0))
        }
    }

    @Test func aMajorityOfServersDownIsNoQuorumEvenWhenTheOneLeftHasAnotherHolder() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await cluster.servers[2].command(["SET", resource, "another", "PX", "60000"])
        try await withClient(cluster, configure: { $0.tuning.serverTimeout = .milliseconds(200); $0.tuning.retryAttempts = 1 }) { client in
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(10)))
            // Hung, not refused: the round hears the holder on the third server before the others time out.
            cluster.servers[0].pause()
            cluster.servers[1].pause()
            defer { cluster.servers[0].resume(); cluster.servers[1].resume() }
            let error = await expectRedLockError(.noQuorum) { try await client.tryAcquire(resource, ttl: .seconds(10)) }
            #expect(error?.message.contains("2 of 3 servers failed") == true, "\(String(describing: error))")
        }
    }

    @Test func shutdownFailsLaterCallsClearly() async throws {
        let cluster = try await RedisCluster.start(count: 1)
        let client = try makeClient(cluster)
        await client.shutdown()
        await client.shutdown()
        await expectRedLockError(.clientShutDown) { try await client.acquire(uniqueResource(), ttl: .seconds(1)) }
    }
}

