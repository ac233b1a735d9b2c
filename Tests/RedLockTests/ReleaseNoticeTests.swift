import Foundation
@testable import RedLock
import RedisTestSupport
import Synchronization
import Testing
import TestLoad
import RedisIO

/// Waiters told of a release by pub/sub (`notifiesWaitersOnRelease`). Most tests give waiters a
/// retry delay of 10 s (jittered to at least 5 s), so a waiter that gets the lock within a couple
/// of seconds can only have been woken by the notice, not by its own polling.
@Suite("Release notices: waiters woken by pub/sub, polling as the fallback", needsRedis, .load(.timed))
struct ReleaseNoticeTests {
    static let slowPolling = Duration.seconds(10)
    static let wellBeforeAPoll = Duration.seconds(3)

    /// Messages published on release channels, as a subscriber other than the library sees them.
    final class Announcements: Sendable {
        typealias Message = (server: Int, channel: String, payload: String)

        private final class Heard: Sendable {
            let messages = Mutex<[Message]>([])
            let subscriptions = Mutex(0)
        }

        private let heard = Heard()
        let subscriber: RedisSubscriber

        init(_ cluster: RedisCluster) async throws {
            let servers = try cluster.urls.map { try RedisServerAddress(parsing: $0) }
            let heard = self.heard
            subscriber = try RedisSubscriber(servers: servers, fallbackPassword: nil, pattern: "redlock:released:*") { event in
                switch event {
                case .subscribed: heard.subscriptions.withLock { $0 += 1 }
                case .message(let server, let channel, let payload): heard.messages.withLock { $0.append((server, channel, payload)) }
                case .failed: break
                }
            }
            let count = cluster.servers.count
            guard await eventually(within: .seconds(5), { heard.subscriptions.withLock { $0 } == count }) else {
                throw HarnessError("the test subscriber did not subscribe")
            }
        }

        var messages: [Message] { heard.messages.withLock { $0 } }
    }

    /// A holder with the lock on three servers, and a waiter that polls only every 5-15 s, already
    /// subscribed to the release channel on every server and past the one retry that the first
    /// subscription's confirmation triggers.
    struct Standoff {
        let cluster: RedisCluster
        let resource: String
        let holder: RedLockClient
        let waiter: RedLockClient
        let held: Lock
        let waiting: Task<Lock, any Error>
        var channel: String { LockScripts.releaseChannel(for: resource) }

        static func start(wait: LockWait = .upTo(.seconds(60))) async throws -> Standoff {
            let cluster = try await RedisCluster.start(count: 3)
            let resource = uniqueResource()
            let holder = try makeClient(cluster)
            let waiter = try makeClient(cluster) { $0.tuning.retryDelay = ReleaseNoticeTests.slowPolling }
            let held = try await holder.acquire(resource, ttl: .seconds(60))
            let waiting = Task { try await waiter.acquire(resource, ttl: .seconds(60), wait: wait) }
            let standoff = Standoff(cluster: cluster, resource: resource, holder: holder, waiter: waiter, held: held, waiting: waiting)
            guard try await eventually({ try await standoff.subscribers() == 3 }) else {
                throw HarnessError("the waiter did not subscribe on every server")
            }
            try await Task.sleep(for: .milliseconds(300))
            return standoff
        }

        /// Subscribers of the release channel, summed over the servers.
        func subscribers() async throws -> Int {
            try await cluster.subscribers(of: channel)
        }

        func shutdown() async {
            await holder.shutdown()
            await waiter.shutdown()
        }
    }

    @Test func aWaiterGetsTheLockWhenItIsReleasedNotAtItsNextPoll() async throws {
        let standoff = try await Standoff.start()
        let released = ContinuousClock.now
        try await standoff.holder.release(standoff.held)
        let lock = try await standoff.waiting.value
        #expect(ContinuousClock.now - released < Self.wellBeforeAPoll, "woken by the notice, not by a 5-15 s poll")
        #expect(try await standoff.cluster.holders(of: standoff.resource, value: lock.storedValue) == 3)
        #expect(try await eventually { try await standoff.subscribers() == 0 }, "the channel is left once the wait is over")
        try await standoff.waiter.release(lock)
        await standoff.shutdown()
    }

    @Test func aReleaseIsAnnouncedOnceByEveryServerWithTheSameDigest() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let announcements = try await Announcements(cluster)
        defer { announcements.subscriber.stop() }
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let lock = try await client.acquire(resource, ttl: .seconds(30))
            try await client.release(lock)
            #expect(await eventually { announcements.messages.count == 3 })
            let messages = announcements.messages
            #expect(Set(messages.map(\.server)) == [0, 1, 2])
            #expect(messages.allSatisfy { $0.channel == "redlock:released:" + resource })
            let digests = Set(messages.map { $0.payload.split(separator: " ").first.map(String.init) ?? "" })
            #expect(digests.count == 1 && digests.first?.count == 40, "one release, one digest, so a waiter counts it once")
            #expect(messages.allSatisfy { $0.payload.hasSuffix(" 0") }, "no client of the library was waiting")
            #expect(messages.allSatisfy { !$0.payload.contains(lock.token) }, "the token itself is not broadcast")
        }
    }

    @Test func nothingIsAnnouncedWhenNoKeyWasDeleted() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let announcements = try await Announcements(cluster)
        defer { announcements.subscriber.stop() }
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            // The clean-up of a failed round: ours on one server, another holder's on two.
            for server in cluster.servers.prefix(2) { try await server.command(["SET", resource, "another", "PX", "60000"]) }
            #expect(try await client.tryAcquire(resource, ttl: .seconds(30)) == nil)
            // A release that keeps the key for a while, and a release of a lock already gone.
            let kept = uniqueResource()
            try await client.release(try await client.acquire(kept, ttl: .seconds(30)), keepingKeyFor: .seconds(30))
            let gone = try await client.acquire(uniqueResource(), ttl: .milliseconds(200))
            try await Task.sleep(for: .milliseconds(400))
            await expectRedLockError(.notHeld) { try await client.release(gone) }
            // A marker release, so "nothing heard" is not just "not heard yet".
            let marker = uniqueResource()
            try await client.release(try await client.acquire(marker, ttl: .seconds(30)))
            #expect(await eventually { announcements.messages.count == 3 })
            #expect(announcements.messages.allSatisfy { $0.channel == "redlock:released:" + marker })
        }
    }

    @Test func withNoticesOffAReleasePublishesNothingAndWaitersPoll() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let announcements = try await Announcements(cluster)
        defer { announcements.subscriber.stop() }
        let resource = uniqueResource()
        let holder = try makeClient(cluster) { $0.notifiesWaitersOnRelease = false }
        let waiter = try makeClient(cluster) { $0.notifiesWaitersOnRelease = false }
        let held = try await holder.acquire(resource, ttl: .seconds(60))
        let waiting = Task { try await waiter.acquire(resource, ttl: .seconds(60), wait: .upTo(.seconds(60))) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await cluster.subscribers(of: LockScripts.releaseChannel(for: resource)) == 0)
        try await holder.release(held)
        let lock = try await waiting.value
        try await waiter.release(lock)
        try await Task.sleep(for: .milliseconds(200))
        #expect(announcements.messages.isEmpty)
        await holder.shutdown()
        await waiter.shutdown()
    }

    @Test func aReleaseWakesTheLongestWaitingCallerOfAClientAndTheNextReleaseTheNext() async throws {
        let standoff = try await Standoff.start()
        let waiters = standoff.waiter
        let before = try await standoff.cluster.calls(of: "set")
        let second = Task { try await waiters.acquire(standoff.resource, ttl: .seconds(60), wait: .upTo(.seconds(60))) }
        // Its first round has reached every server (and failed) before the release.
        #expect(try await eventually { try await zip(standoff.cluster.calls(of: "set"), before).allSatisfy { $0 > $1 } })
        try await Task.sleep(for: .milliseconds(100))

        try await standoff.holder.release(standoff.held)
        let firstLock = try await standoff.waiting.value
        let handedOver = ContinuousClock.now
        try await waiters.release(firstLock)
        let secondLock = try await second.value
        #expect(ContinuousClock.now - handedOver < Self.wellBeforeAPoll, "the second waiter heard the first one's release")
        try await waiters.release(secondLock)
        await standoff.shutdown()
    }

    @Test func aReleaseWithManyClientsWaitingStartsAFewRoundsNotOnePerClient() async throws {
        let standoff = try await Standoff.start()
        let clientCount = 12
        let resource = standoff.resource
        let others = try (1..<clientCount).map { _ in try makeClient(standoff.cluster) { $0.tuning.retryDelay = Self.slowPolling } }
        let waiting = others.map { client in Task { try await client.acquire(resource, ttl: .seconds(60), wait: .upTo(.seconds(60))) } }
        #expect(try await eventually { try await standoff.subscribers() == 3 * clientCount })
        try await Task.sleep(for: .milliseconds(500))  // past each client's one retry on subscribing

        // Each client answers a release with probability 2/12. Woken all at once, every one of the
        // 12 would run a round: P(more than 8 of 12 answering) is about 2e-5. Nobody answers about
        // 11 % of releases, so the holder takes the key back and releases again, up to four times,
        // until a waiter has it (all four unanswered: about 1.5e-4).
        var held = standoff.held
        var answered = 0
        for _ in 0..<4 {
            let before = try await standoff.cluster.calls(of: "set")[0]
            try await standoff.holder.release(held)
            try await Task.sleep(for: .seconds(1))
            let rounds = try await standoff.cluster.calls(of: "set")[0] - before
            #expect(rounds <= 8, "\(rounds) of \(clientCount) waiting clients ran a round for one release")
            answered += rounds
            guard rounds == 0, let again = try await standoff.holder.tryAcquire(resource, ttl: .seconds(60)) else { break }
            held = again
        }
        #expect(answered > 0, "some waiting client answered a release")

        for task in waiting { task.cancel() }
        standoff.waiting.cancel()
        for client in others { await client.shutdown() }
        await standoff.shutdown()
    }

    @Test func callersThatStartWaitingAsTheirClientShutsDownAllReturn() async throws {
        // A waiting acquire queues "start watching" and "wait" on the I/O thread; when they land
        // behind the shutdown, they must not bring back a watch that nothing will ever end.
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let holder = try makeClient(cluster)
        let held = try await holder.acquire(resource, ttl: .seconds(60))
        for attempt in 0..<100 {
            let client = try makeClient(cluster)
            let callers = (0..<8).map { _ in
                Task { try await client.acquire(resource, ttl: .seconds(60), wait: .upTo(.seconds(5))) }
            }
            // Shut down at varying points of the callers' first round and first wait.
            try await Task.sleep(for: .microseconds(attempt * 40))
            await client.shutdown()
            for caller in callers {
                guard let ended = await expectReturns(within: .seconds(5), { try await caller.value }) else { return }
                if case .success = ended { Issue.record("a caller got a lock that another client holds") }
            }
        }
        try await holder.release(held)
        await holder.shutdown()
    }

    @Test func cancellingAWaiterEndsItsWaitAtOnceAndLeavesTheChannel() async throws {
        let standoff = try await Standoff.start(wait: .forever)
        let cancelled = ContinuousClock.now
        standoff.waiting.cancel()
        await expectRedLockError(.cancelled) { try await standoff.waiting.value }
        #expect(ContinuousClock.now - cancelled < Self.wellBeforeAPoll)
        #expect(try await eventually { try await standoff.subscribers() == 0 })
        try await standoff.holder.release(standoff.held)
        await standoff.shutdown()
    }

    @Test func shuttingDownAClientEndsItsWaitersAtOnce() async throws {
        let standoff = try await Standoff.start(wait: .forever)
        let stopped = ContinuousClock.now
        await standoff.waiter.shutdown()
        await expectRedLockError(.clientShutDown) { try await standoff.waiting.value }
        #expect(ContinuousClock.now - stopped < Self.wellBeforeAPoll)
        try await standoff.holder.release(standoff.held)
        await standoff.shutdown()
    }

    @Test func anACLUserWithoutChannelRightsStillReleasesAndItsWaitersPoll() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        for server in cluster.servers {
            try await server.command(["ACL", "SETUSER", "nochannels", "on", ">nc-pw", "~*", "+@all", "resetchannels"])
        }
        let addresses = cluster.servers.map { "redis://nochannels:nc-pw@127.0.0.1:\($0.port)" }
        func client() throws -> RedLockClient {
            var configuration = try RedLockConfiguration(serverAddresses: addresses)
            configuration.tuning.retryDelay = .milliseconds(20)
            return try RedLockClient(configuration: configuration)
        }
        let holder = try client(), waiter = try client()
        let held = try await holder.acquire(resource, ttl: .seconds(60))
        let waiting = Task { try await waiter.acquire(resource, ttl: .seconds(60), wait: .upTo(.seconds(30))) }
        try await Task.sleep(for: .milliseconds(200))
        try await holder.release(held)
        #expect(try await cluster.holders(of: resource, value: held.storedValue) == 0, "PUBLISH refused, the key deleted all the same")
        let lock = try await waiting.value
        try await waiter.release(lock)
        #expect(try await cluster.holders(of: resource) == 0)
        await holder.shutdown()
        await waiter.shutdown()
    }

    @Test func aWaiterStillGetsTheLockWhenTheHolderLetsItExpire() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        let holder = try makeClient(cluster)
        let waiter = try makeClient(cluster) { $0.tuning.retryDelay = .milliseconds(100) }
        _ = try await holder.acquire(resource, ttl: .milliseconds(500))
        let lock = try await waiter.acquire(resource, ttl: .seconds(30), wait: .upTo(.seconds(10)))
        #expect(try await cluster.holders(of: resource, value: lock.storedValue) == 3)
        try await waiter.release(lock)
        await holder.shutdown()
        await waiter.shutdown()
    }
}
