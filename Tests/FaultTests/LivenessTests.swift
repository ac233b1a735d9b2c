import Foundation
import RedLock
import RedisTestSupport
import Testing

/// Every public call returns by its configured deadline while a minority or a majority of the
/// five servers is stopped (SIGSTOP), refusing connections (killed), or hanging mid-reply. With a
/// minority failing the call also succeeds; with a majority it fails (never hangs).
@Suite("Liveness: every call returns by its deadline", needsRedis)
struct LivenessTests {
    static let ttl = Duration.seconds(5)

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func acquireReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            servers.fail()
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.acquire, "acquire") {
                try await client.acquire("liveness:acquire", ttl: Self.ttl)
            }
            expect(result, extent, majorityCode: .noQuorum)
            await client.shutdown()
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func acquireWaitingReturnsByItsWait(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            servers.fail()
            let wait = Duration.milliseconds(600)
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.acquire(waitingUpTo: wait), "acquire(wait: .upTo(600 ms))") {
                try await client.acquire("liveness:wait", ttl: Self.ttl, wait: .upTo(wait))
            }
            expect(result, extent, majorityCode: .noQuorum)
            await client.shutdown()
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func tryAcquireReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            servers.fail()
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.acquire, "tryAcquire") {
                try await client.tryAcquire("liveness:try", ttl: Self.ttl)
            }
            if extent == .minority, case .success(let lock) = result { #expect(lock != nil) }
            expect(result, extent, majorityCode: .noQuorum)
            await client.shutdown()
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func extendReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            let lock = try await client.acquire("liveness:extend", ttl: Self.ttl)
            servers.fail()
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.round, "extend") {
                try await client.extend(lock)
            }
            expect(result, extent, majorityCode: .noQuorum)
            await client.shutdown()
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func releaseReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            let lock = try await client.acquire("liveness:release", ttl: Self.ttl)
            servers.fail()
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.round, "release") {
                try await client.release(lock)
            }
            expect(result, extent, majorityCode: .noQuorum)
            await client.shutdown()
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func releaseKeepingTheKeyReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            let lock = try await client.acquire("liveness:keep", ttl: Self.ttl)
            servers.fail()
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.round, "release(keepingKeyFor:)") {
                try await client.release(lock, keepingKeyFor: .seconds(10))
            }
            expect(result, extent, majorityCode: .noQuorum)
            await client.shutdown()
        }
    }

    /// The servers fail while the body runs: with a minority the body finishes and the lock is
    /// released (by body time + an extension round in flight + the release round); with a
    /// majority the lock is lost at its validity deadline, the body is cancelled and `withLock`
    /// throws `lockLost` (by validity + an extension round in flight + the release round).
    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func withLockReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            let ttl = Duration.milliseconds(900)
            let body = extent == .minority ? Duration.seconds(1) : .seconds(3)
            let budget = LivenessBudget.acquire + min(body, ttl) + LivenessBudget.round * 2
            let result = await LivenessBudget.expectReturns(within: budget, "withLock") {
                try await client.withLock("liveness:with", ttl: ttl) { _ in
                    servers.fail()
                    try await Task.sleep(for: body)
                }
            }
            expect(result, extent, majorityCode: .lockLost)
            await client.shutdown()
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func inspectReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            servers.fail()
            let result = await LivenessBudget.expectReturns(within: LivenessBudget.round, "inspect") {
                try await client.inspect("liveness:inspect")
            }
            if case .success(let inspection) = result {
                #expect(inspection.majorityAnswered == (extent == .minority))
                #expect(inspection.servers.count { $0.outcome.kind != .granted } == extent.rawValue)
            } else {
                Issue.record("inspect threw: \(String(describing: result))")
            }
            await client.shutdown()
        }
    }

    /// `cronlock status` inspects with the library's default per-server timeout for reads (1 s),
    /// plus the time the process takes to start and stop.
    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func cronlockStatusReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            servers.fail()
            let arguments = ["status", "--key", "liveness-status"] + servers.urls.flatMap { ["--server", $0] }
            let result = await LivenessBudget.expectReturns(within: .seconds(1) + Self.processStartAndStop, "cronlock status") {
                try await Self.runCronlock(arguments)
            }
            if case .success(let code) = result {
                #expect(code == (extent == .minority ? 0 : 69))
            }
        }
    }

    /// A cronlock run with `--ttl 1s`: per-server timeout TTL/10, three attempts of two rounds,
    /// pauses of up to 150 ms; then the command (`true`) and the release.
    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func cronlockRunReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            servers.fail()
            let arguments = ["--key", "liveness-run", "--ttl", "1s", "--min-hold", "0s"] + servers.urls.flatMap { ["--server", $0] } + ["--", "true"]
            let budget = LivenessBudget.attempts(3, roundsEach: 2, timeout: .milliseconds(100), delay: .milliseconds(100))
                + .milliseconds(100) + Self.processStartAndStop
            let result = await LivenessBudget.expectReturns(within: budget, "cronlock run") {
                try await Self.runCronlock(arguments)
            }
            if case .success(let code) = result {
                #expect(code == (extent == .minority ? 0 : 69))
            }
        }
    }

    /// What a debug build of cronlock takes to start, connect and exit on an idle machine, doubled.
    static let processStartAndStop = Duration.milliseconds(400)

    static func runCronlock(_ arguments: [String]) async throws -> Int32 {
        let child = try ChildProcess(BuiltProducts.cronlock, arguments) { _ in }
        guard let code = await child.exitCode(within: .seconds(30)) else { throw HarnessError("cronlock did not exit within 30 s") }
        return code
    }

    /// With a minority failing the call succeeds; with a majority it throws `majorityCode`.
    private func expect<T>(_ result: Result<T, any Error>?, _ extent: Extent, majorityCode: RedLockError.Code,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        guard let result else { return }
        switch (extent, result) {
        case (.minority, .success):
            break
        case (.majority, .failure(let error as RedLockError)) where error.code == majorityCode:
            break
        default:
            Issue.record("with a \(extent.testDescription) failing: \(result)", sourceLocation: sourceLocation)
        }
    }
}
