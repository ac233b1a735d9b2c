import Foundation
import RedLock
import RedisTestSupport
import Testing

#if canImport(Glibc)
import Glibc
import TestLoad
#endif

@Suite("The client's I/O thread as a task executor", needsRedis, .load(.timed))
struct IOExecutorTests {
    /// The calling thread's name (the client names its I/O thread `redlock-io`).
    static func threadName() -> String {
        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return name.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The calling thread.
    static func thread() -> pthread_t { pthread_self() }

    @Test func lockCallsUnderTheIOExecutorRunOnTheIOThreadAndWork() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let threads = try await withTaskExecutorPreference(client.ioExecutor) {
                var seen: Set<pthread_t> = []
                for _ in 0..<20 {
                    let lock = try await client.acquire(resource, ttl: .seconds(10))
                    seen.insert(Self.thread())
                    let extended = try await client.extend(lock)
                    seen.insert(Self.thread())
                    try await client.release(extended)
                    seen.insert(Self.thread())
                }
                return (seen, Self.threadName())
            }
            #expect(threads.0.count == 1, "every resumption on the one I/O thread")
            #expect(threads.1 == "redlock-io")
            #expect(try await cluster.holders(of: resource) == 0)
        }
    }

    @Test func waitingForAnotherHolderUnderTheIOExecutorDoesNotStallTheClient() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let resource = uniqueResource()
        try await withClient(cluster) { client in
            let held = try await client.acquire(resource, ttl: .seconds(30))
            let waiting = Task {
                try await withTaskExecutorPreference(client.ioExecutor) {
                    try await client.acquire(resource, ttl: .seconds(30), wait: .upTo(.seconds(20)))
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            // The same client serves other calls while one of its callers waits on its thread.
            try await client.release(try await client.acquire(uniqueResource(), ttl: .seconds(5)))
            try await client.release(held)
            let lock = try await waiting.value
            try await client.release(lock)
        }
    }

    @Test func aTaskOnTheIOExecutorOfAClientThatShutsDownStillEnds() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let client = try makeClient(cluster)
        let resource = uniqueResource()
        let held = try await client.acquire(resource, ttl: .seconds(30))
        let waiting = Task {
            try await withTaskExecutorPreference(client.ioExecutor) {
                try await client.acquire(resource, ttl: .seconds(30), wait: .forever)
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        await client.shutdown()
        let ended = await expectReturns(within: .seconds(5)) { try await waiting.value }
        if case .success = ended { Issue.record("the waiter got a lock from a client that was shut down") }
        _ = held
    }
}
