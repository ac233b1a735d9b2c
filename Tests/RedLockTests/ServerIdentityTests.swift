@testable import RedLock
import Testing

/// The decisions on a server's identity, without a server: parsing `INFO`, one vote per server,
/// and the restart guard's verdict over time.
@Suite("Server identity: INFO parsing, duplicates, restart guard (no server)")
struct ServerIdentityTests {
    static let server = "# Server\r\nredis_version:7.0.15\r\nrun_id:9f3c2a\r\ntcp_port:6379\r\nuptime_in_seconds:4\r\n"
    static let persistence = "# Persistence\r\nloading:0\r\naof_enabled:0\r\n"

    @Test func readsRunIDUptimeAndAOFFromInfo() throws {
        let now = ContinuousClock.now
        let identity = try #require(ServerIdentity(server: Self.server, persistence: Self.persistence, database: 3, receivedAt: now))
        #expect(identity == ServerIdentity(runID: "9f3c2a", database: 3, upSince: now - .seconds(3), appendOnly: false))
        #expect(ServerIdentity(server: Self.server, persistence: "aof_enabled:1", database: 0, receivedAt: now)?.appendOnly == true)
        #expect(ServerIdentity(server: "# Server\r\nuptime_in_seconds:4\r\n", persistence: Self.persistence, database: 0, receivedAt: now) == nil)
        #expect(ServerIdentity(server: Self.server, persistence: "", database: 0, receivedAt: now) == nil)
    }

    @Test func theSameRunIDIsTheSameServerInAnyDatabase() {
        let now = ContinuousClock.now
        let a = ServerIdentity(runID: "a", database: 0, upSince: now, appendOnly: false)
        #expect(a.isSameServer(as: ServerIdentity(runID: "a", database: 1, upSince: now, appendOnly: true)))
        #expect(!a.isSameServer(as: ServerIdentity(runID: "b", database: 0, upSince: now, appendOnly: false)))
    }

    @Test func aServerWithoutAOFIsWithheldUntilTheWindowHasPassedSinceItsStart() {
        let start = ContinuousClock.now
        let fresh = ServerIdentity(runID: "a", database: 0, upSince: start, appendOnly: false)
        #expect(fresh.withheldVote(at: start + .seconds(3), window: .seconds(30)) == "restarted 3 s ago without persistence; it votes again 30 s after its start (restart guard)")
        #expect(fresh.withheldVote(at: start + .seconds(30), window: .seconds(30)) == nil, "the window ends by itself")
        #expect(fresh.withheldVote(at: start, window: nil) == nil, "guard disabled")
        let withAOF = ServerIdentity(runID: "a", database: 0, upSince: start, appendOnly: true)
        #expect(withAOF.withheldVote(at: start, window: .seconds(30)) == nil)
    }

    /// `uptime_in_seconds` is now's whole second minus the start's: a server started at x.9 s
    /// reads 1 at x+1.0 s, 100 ms after its start. Taken as 1 s of uptime, such a server would vote
    /// at once under a 500 ms window while it may have forgotten a key granted before its restart
    /// (the randomized immediate-restart run's overlap).
    @Test func aWholeSecondOfUptimeMayBeAFractionSoTheStartIsTakenAtItsLatest() throws {
        let now = ContinuousClock.now
        let server = "# Server\r\nrun_id:9f3c2a\r\nuptime_in_seconds:1\r\n"
        let justStarted = try #require(ServerIdentity(server: server, persistence: Self.persistence, database: 0, receivedAt: now))
        #expect(justStarted.upSince == now)
        #expect(justStarted.withheldVote(at: now + .milliseconds(400), window: .milliseconds(500)) != nil)
        #expect(justStarted.withheldVote(at: now + .milliseconds(500), window: .milliseconds(500)) == nil, "the window ends by itself")
        let zero = try #require(ServerIdentity(server: "run_id:a\r\nuptime_in_seconds:0\r\n", persistence: Self.persistence, database: 0, receivedAt: now))
        #expect(zero.upSince == now)
    }

    @Test func theGuardsWindowFollowsTheTTLOrItsMinimum() {
        #expect(RestartGuard.lockTTL.window(ttl: .seconds(5)) == .seconds(5))
        #expect(RestartGuard.atLeast(.seconds(20)).window(ttl: .seconds(5)) == .seconds(20))
        #expect(RestartGuard.atLeast(.seconds(20)).window(ttl: .seconds(30)) == .seconds(30))
        #expect(RestartGuard.disabled.window(ttl: .seconds(5)) == nil)
        #expect(RedLockConfiguration(servers: []).restartGuard == .lockTTL, "on by default")
    }
}
