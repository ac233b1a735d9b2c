import Foundation
import RedLock
import RedisTestSupport
import Testing

/// How the failing servers fail.
enum FailureMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// SIGSTOP: connections are accepted, nothing is answered.
    case stopped
    /// Killed: connections are refused.
    case refusing
    /// Behind a proxy that passes half of the next reply and then nothing, the connection open.
    case hangingMidReply

    var testDescription: String { rawValue }
}

/// How many of the five servers fail.
enum Extent: Int, CaseIterable, Sendable, CustomTestStringConvertible {
    case minority = 2
    case majority = 3

    var testDescription: String { "\(self == .minority ? "minority" : "majority") (\(rawValue) of 5)" }
}

/// Five real servers, each also behind a `HangingProxy`; clients use the proxies only when the
/// failure mode is `hangingMidReply`. `fail()` makes the chosen servers fail.
final class LivenessCluster: Sendable {
    let cluster: RedisCluster
    let proxies: [HangingProxy]
    let mode: FailureMode
    let extent: Extent

    private init(cluster: RedisCluster, proxies: [HangingProxy], mode: FailureMode, extent: Extent) {
        self.cluster = cluster
        self.proxies = proxies
        self.mode = mode
        self.extent = extent
    }

    static func start(_ mode: FailureMode, _ extent: Extent) async throws -> LivenessCluster {
        let cluster = try await RedisCluster.start(count: 5)
        let proxies = try cluster.servers.map { try HangingProxy(upstreamPort: $0.port) }
        return LivenessCluster(cluster: cluster, proxies: proxies, mode: mode, extent: extent)
    }

    /// The addresses clients use.
    var urls: [String] { mode == .hangingMidReply ? proxies.map(\.url) : cluster.urls }

    /// The failing servers: the last `extent` of the five.
    var failing: Range<Int> { (5 - extent.rawValue)..<5 }

    /// Makes the failing servers fail.
    func fail() {
        for index in failing {
            switch mode {
            case .stopped: cluster.servers[index].pause()
            case .refusing: cluster.servers[index].stop()
            case .hangingMidReply: proxies[index].hangMidReply()
            }
        }
    }

    /// Resumes stopped servers, closes the proxies and stops every server.
    func tearDown() {
        cluster.servers.forEach { $0.resume() }
        proxies.forEach { $0.close() }
        cluster.stopAll()
    }

    /// A client with the suite's deadlines (`LivenessBudget.configuration`).
    func client() throws -> RedLockClient {
        var configuration = try RedLockConfiguration(serverAddresses: urls)
        LivenessBudget.configure(&configuration)
        return try RedLockClient(configuration: configuration)
    }

    /// Runs `body` with a started cluster and tears it down after, under the shared gate.
    static func with(_ mode: FailureMode, _ extent: Extent, _ body: @Sendable (LivenessCluster) async throws -> Void) async throws {
        let fixture = try await start(mode, extent)
        do {
            try await body(fixture)
            fixture.tearDown()
        } catch {
            fixture.tearDown()
            throw error
        }
    }
}
