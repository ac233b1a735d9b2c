import Foundation
import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// Every public call returns by its configured deadline while a minority or a majority of the
/// five servers is stopped (SIGSTOP), refusing connections (killed), or hanging mid-reply. With a
/// minority failing the call also succeeds; with a majority it fails (never hangs).
@Suite("Liveness: every call returns by its deadline", needsRedis, .load(.timed))
struct LivenessTests {
    static let ttl = Duration.seconds(5)

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func acquireReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await check(mode, extent, "acquire", within: LivenessBudget.acquire) { client, _ in
            try await client.acquire("liveness:acquire", ttl: Self.ttl)
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func acquireWaitingReturnsByItsWait(mode: FailureMode, extent: Extent) async throws {
        let wait = Duration.milliseconds(600)
        try await check(mode, extent, "acquire(wait: .upTo(600 ms))", within: LivenessBudget.acquire(waitingUpTo: wait)) { client, _ in
            try await client.acquire("liveness:wait", ttl: Self.ttl, wait: .upTo(wait))
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func tryAcquireReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await check(mode, extent, "tryAcquire", within: LivenessBudget.acquire) { client, _ in
            let lock = try await client.tryAcquire("liveness:try", ttl: Self.ttl)
            if extent == .minority { #expect(lock != nil) }
            return lock
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func extendReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await check(mode, extent, "extend", within: LivenessBudget.round, lockFirst: "liveness:extend") { client, lock in
            try await client.extend(lock!)
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func releaseReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await check(mode, extent, "release", within: LivenessBudget.round, lockFirst: "liveness:release") { client, lock in
            try await client.release(lock!)
        }
    }

    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func releaseKeepingTheKeyReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await check(mode, extent, "release(keepingKeyFor:)", within: LivenessBudget.round, lockFirst: "liveness:keep") { client, lock in
            try await client.release(lock!, keepingKeyFor: .seconds(10))
        }
    }

    /// One call while `extent` of the servers fail in `mode`: a client (and, with `lockFirst`, a
    /// lock it took while every server was healthy), then the failure, then `call`, which must
    /// return within `budget`: with a minority failing it succeeds, with a majority it throws
    /// `majorityCode`. The client is shut down whatever happens.
    private func check<T: Sendable>(_ mode: FailureMode, _ extent: Extent, _ what: String, within budget: Duration,
                                    lockFirst resource: String? = nil, majorityCode: RedLockError.Code = .noQuorum,
                                    _ call: @escaping @Sendable (RedLockClient, Lock?) async throws -> T) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            let client = try servers.client()
            do {
                let lock: Lock? = if let resource { try await client.acquire(resource, ttl: Self.ttl) } else { nil }
                servers.fail()
                let result = await LivenessBudget.expectReturns(within: budget, what) { try await call(client, lock) }
                expect(result, extent, majorityCode: majorityCode)
            } catch {
                await client.shutdown()
                throw error
            }
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
    /// pauses of up to 150 ms; the first grant's wait for every server's identity (one timeout);
    /// then the command (`true`), the rest of the acquisition's answers for the degraded record
    /// (one timeout), and the release.
    @Test(arguments: FailureMode.allCases, Extent.allCases)
    func cronlockRunReturnsByItsDeadline(mode: FailureMode, extent: Extent) async throws {
        try await LivenessCluster.with(mode, extent) { servers in
            servers.fail()
            let arguments = ["--key", "liveness-run", "--ttl", "1s", "--min-hold", "0s"] + servers.urls.flatMap { ["--server", $0] } + ["--", "true"]
            let budget = LivenessBudget.attempts(3, roundsEach: 2, timeout: .milliseconds(100), delay: .milliseconds(100))
                + .milliseconds(100) * 3 + Self.processStartAndStop
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
        let child = try BuiltProducts.start(BuiltProducts.cronlock, arguments)
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

