import Foundation
import InMemoryLogging
import Logging
import RedLock
import RedisTestSupport
import Testing
import TestLoad

/// The library's half of the bad-input catalog (issue 6): every row is one bad input, the API it
/// goes through, and what must come of it. Each row checks that
/// - the error has the documented code and a message that names the problem (and the server, where
///   one is involved), without control characters or passwords;
/// - the call returns within a bound (a hang fails the row instead of the run);
/// - no key is left on any server the row started (keys the row seeded itself excepted).
///
/// Inputs the documentation accepts (binary bytes in a key, an even number of servers, a key of
/// exactly 4096 bytes) are rows too: they must work and leave nothing.
/// cronlock's half is `Tests/cronlockTests/BadInputCatalogTests.swift`.
@Suite("Bad-input catalog: the library", .load(.heavy))
struct LibraryBadInputCatalogTests {
    @Test("rejected before any server is asked", arguments: LibraryBadInput.offline)
    func rejectedBeforeAnyServerIsAsked(_ row: LibraryBadInput) async throws {
        try await row.check()
    }

    @Test("against real servers", .serialized, needsRedis, arguments: LibraryBadInput.withServers)
    func againstRealServers(_ row: LibraryBadInput) async throws {
        try await row.check()
    }

    @Test func theCatalogCoversEnoughInputs() {
        #expect(LibraryBadInput.offline.count + LibraryBadInput.withServers.count >= 30)
    }
}

/// One row of the catalog.
struct LibraryBadInput: Sendable, CustomTestStringConvertible {
    /// What must come of the input.
    enum Outcome: Sendable {
        /// A `RedLockError` with this code.
        case fails(RedLockError.Code)
        /// Documented as valid: the scenario's call succeeds (and checks what it did).
        case accepted
    }

    /// The bad input, as a person would describe it.
    let input: String
    /// Where it enters the library.
    let api: String
    let outcome: Outcome
    /// Fragments the error's description must contain; `a|b` accepts either.
    let mentions: [String]
    /// How long the call may take, before `timeScale`.
    let limit: Duration
    /// Sets the row up (servers, listeners) and returns the call to make.
    let scenario: @Sendable () async throws -> Scenario
    /// Set while the library mishandles this input; the row then states the intended behaviour and
    /// is expected to fail (see the issue-6 report).
    let knownIssue: String?
    /// Whether the known issue shows on every run (else it depends on timing).
    let alwaysShows: Bool

    init(_ input: String, api: String, _ outcome: Outcome, mentions: [String] = [], limit: Duration = .seconds(10),
         knownIssue: String? = nil, alwaysShows: Bool = true, scenario: @escaping @Sendable () async throws -> Scenario) {
        self.alwaysShows = alwaysShows
        self.input = input
        self.api = api
        self.outcome = outcome
        self.mentions = mentions
        self.limit = limit
        self.knownIssue = knownIssue
        self.scenario = scenario
    }

    var testDescription: String { "\(api): \(input)" }

    /// Runs the row and checks everything it promises.
    func check() async throws {
        let scenario = try await self.scenario()
        let attempt = scenario.attempt
        let result = await expectReturns(within: limit.scaled) { try await attempt() }
        if let knownIssue {
            await withKnownIssue(Comment(rawValue: knownIssue), isIntermittent: !alwaysShows) {
                try await verify(result, scenario)
                try await expectNothingLeft(scenario)
            }
        } else {
            try await verify(result, scenario)
            try await expectNothingLeft(scenario)
        }
        _ = scenario.keepAlive
    }

    private func verify(_ result: Result<Void, any Error>?, _ scenario: Scenario) async throws {
        switch (outcome, result) {
        case (_, nil):
            Issue.record("\(input): did not return within \(limit.scaled)")
        case (.accepted, .success?):
            break
        case (.accepted, .failure(let error)?):
            Issue.record("\(input) is documented as valid, but failed: \(error)")
        case (.fails(let code), .success?):
            Issue.record("\(input): expected RedLockError \(code), but the call succeeded")
        case (.fails(let code), .failure(let error)?):
            guard let error = error as? RedLockError else {
                Issue.record("\(input): expected RedLockError \(code), got \(error)")
                return
            }
            #expect(error.code == code, "\(error)")
            expectClear(error.description, scenario)
        }
    }

    private func expectClear(_ text: String, _ scenario: Scenario) {
        for fragment in mentions {
            let choices = fragment.split(separator: "|").map(String.init)
            #expect(choices.contains { text.contains($0) }, "the message lacks \"\(fragment)\": \(text)")
        }
        for server in scenario.named {
            #expect(text.contains(server), "the message does not name \(server): \(text)")
        }
        for secret in scenario.secrets {
            #expect(!text.contains(secret), "the message shows a password: \(text)")
        }
        #expect(!text.unicodeScalars.contains { $0.properties.generalCategory == .control }, "control characters in \(text.debugDescription)")
    }

    /// Polls every server the row started until only the keys it seeded remain (a clean-up release
    /// may still be in flight when a failed call returns; a key left behind would outlive this).
    private func expectNothingLeft(_ scenario: Scenario) async throws {
        for server in scenario.servers {
            var left: [String] = []
            _ = try await eventually(within: Duration.seconds(2).scaled) {
                left = try await server.keys().filter { !scenario.seeded.contains($0) }
                return left.isEmpty
            }
            #expect(left.isEmpty, "keys left on 127.0.0.1:\(server.port): \(left.map(\.debugDescription))")
        }
    }
}

/// What one row runs, and what it must be checked against.
struct Scenario: Sendable {
    /// The call under test. For rejected inputs it throws the `RedLockError`; for accepted ones it
    /// checks what it did and throws when that was wrong.
    var attempt: @Sendable () async throws -> Void
    /// Servers the row started: afterwards they may hold no key but `seeded`.
    var servers: [RedisServerProcess] = []
    /// Keys the row put there itself.
    var seeded: Set<String> = []
    /// `host:port` of every server the message must name.
    var named: [String] = []
    /// Passwords that must never appear in the message.
    var secrets: [String] = []
    /// Listeners that must live as long as the row.
    var keepAlive: [GarbageServer] = []
}

// MARK: - Calls

extension Scenario {
    /// Parses one address.
    static func parse(_ text: String) -> Scenario {
        Scenario { _ = try RedisServerAddress(parsing: text) }
    }

    /// Creates (and shuts down) a client for `addresses` after `change` to the configuration.
    static func configure(_ addresses: [String], _ change: @escaping @Sendable (inout RedLockConfiguration) -> Void = { _ in }) -> Scenario {
        Scenario {
            var configuration = try RedLockConfiguration(serverAddresses: addresses)
            change(&configuration)
            let client = try RedLockClient(configuration: configuration)
            await client.shutdown()
        }
    }

    /// One acquire (and, if it works, release) of `resource` on `urls`, with the library's defaults
    /// except a short retry delay.
    static func acquireOnce(_ urls: [String], _ resource: String, ttl: Duration = .seconds(5),
                            configure: @escaping @Sendable (inout RedLockConfiguration) -> Void = { _ in }) -> @Sendable () async throws -> Void {
        {
            try await withClient(urls, configure: configure) { client in
                try await client.release(try await client.acquire(resource, ttl: ttl))
            }
        }
    }
}

/// A failed check inside an accepted row's call.
struct CatalogFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Rows without servers

extension LibraryBadInput {
    static let offline: [LibraryBadInput] = addressRows + configurationRows

    /// `RedisServerAddress(parsing:)`, also behind `RedLockConfiguration(serverAddresses:)`.
    static let addressRows: [LibraryBadInput] = {
        func row(_ input: String, _ text: String, _ mentions: String...) -> LibraryBadInput {
            LibraryBadInput(input, api: "RedisServerAddress(parsing:)", .fails(.invalidConfiguration), mentions: mentions) { .parse(text) }
        }
        let secret = "hunter2-secret"
        return [
            row("empty address", "", "empty"),
            row("port 0", "redis://127.0.0.1:0", #"port "0""#, "1 to 65535"),
            row("port 70000", "127.0.0.1:70000", #"port "70000""#),
            row("port above Int.max", "redis://host:99999999999999999999999", "1 to 65535"),
            row("negative port", "redis://host:-1", #"port "-1""#),
            row("port with a sign", "host:+80", #"port "+80""#),
            row("port that is not a number", "redis://host:http", #"port "http""#),
            row("empty port after a colon", "redis://host:", #"port """#),
            row("IPv6 without brackets", "::1", "brackets"),
            row("IPv6 without brackets in a URL", "redis://fe80::1:6379", "brackets"),
            row("IPv6 without its closing bracket", "redis://[::1:6379", "closing ']'"),
            row("brackets around something not IPv6", "redis://[localhost]:6379", "not an IPv6 address"),
            row("text after the IPv6 brackets", "redis://[::1]x6379", "after ']'"),
            row("userinfo without a host", "redis://user:\(secret)@", "host is missing", "user:***@"),
            row("userinfo and port without a host", "redis://:\(secret)@:6379", "host is missing"),
            row("empty userinfo", "redis://@host", "user information", "empty"),
            row("bad percent escape in the password", "redis://user:%zz\(secret)@host", "'%'"),
            row("percent escape that is not UTF-8", "redis://user:%ff%fe@host", "UTF-8"),
            row("10 kB address", "redis://" + String(repeating: "a", count: 10_240), "longer than 4096 bytes"),
            row("host name over 253 bytes", "redis://" + String(repeating: "h", count: 300) + ":6379", "253"),
            row("line feed in the host", "redis://host\n.example:6379", "control characters"),
            row("NUL byte in the host", "redis://host\u{0}evil:6379", "control characters"),
            row("escape sequence (ANSI colour)", "redis://\u{1B}[31mhost", "control characters"),
            row("space in the host", "redis://my host:6379", "spaces"),
            row("punctuation in the host", "redis://ho$t:6379", "not a valid host name"),
            row("non-ASCII host", "redis://hôst.example:6379", "not a valid host name"),
            row("unknown scheme", "http://127.0.0.1:6379", "unknown scheme"),
            row("TLS scheme without a host", "rediss://:6380", "host is missing"),
            row("query string on redis://", "redis://host:6379?db=2", "query strings"),
            row("database that is not a number", "redis://host:6379/zero", #"database "zero""#),
            row("database beyond Int32", "redis://host:6379/99999999999", #"database "99999999999""#),
            row("relative unix socket path", "unix://redis.sock", "absolute socket path"),
            row("unknown unix query parameter", "unix:///run/redis.sock?timeout=1", "db=N"),
        ]
    }()

    /// `RedLockClient(configuration:)`.
    static let configurationRows: [LibraryBadInput] = {
        func row(_ input: String, _ addresses: [String], _ mentions: String...,
                 change: @escaping @Sendable (inout RedLockConfiguration) -> Void = { _ in }) -> LibraryBadInput {
            LibraryBadInput(input, api: "RedLockClient.init", .fails(.invalidConfiguration), mentions: mentions) { .configure(addresses, change) }
        }
        let three = ["redis://10.9.0.1", "redis://10.9.0.2", "redis://10.9.0.3"]
        return [
            row("no servers", [], "no servers"),
            row("the same server twice", ["127.0.0.1:7000", "redis://127.0.0.1:7000"], "listed twice", "127.0.0.1:7000"),
            row("the same server twice, host names differing in case", ["redis://Redis-A:7000", "redis-a:7000"], "listed twice"),
            row("the same server twice, different databases", ["redis://10.9.0.1/1", "redis://10.9.0.1/2"], "listed twice"),
            row("the same unix socket twice", ["unix:///run/r.sock", "unix://:pw@/run/r.sock?db=3"], "listed twice"),
            row("zero server timeout", three, "serverTimeout") { $0.tuning.serverTimeout = .zero },
            row("negative server timeout", three, "serverTimeout") { $0.tuning.serverTimeout = .milliseconds(-5) },
            row("drift factor NaN", three, "driftFactor") { $0.tuning.driftFactor = .nan },
            row("drift factor ½", three, "driftFactor") { $0.tuning.driftFactor = 0.5 },
            row("negative drift allowance", three, "driftAllowance") { $0.tuning.driftAllowance = .milliseconds(-1) },
            row("zero retry attempts", three, "retryAttempts") { $0.tuning.retryAttempts = 0 },
            row("negative retry delay", three, "retryDelay") { $0.tuning.retryDelay = .seconds(-1) },
            row("zero retry delay", three, "at least 1 ms") { $0.tuning.retryDelay = .zero },
            row("zero reconnect delay", three, "reconnect") { $0.tuning.minimumReconnectDelay = .zero },
            row("minimum reconnect delay above the maximum", three, "reconnect") {
                $0.tuning.minimumReconnectDelay = .seconds(3); $0.tuning.maximumReconnectDelay = .seconds(1)
            },
        ]
    }()
}

// MARK: - Rows with servers

extension LibraryBadInput {
    static let withServers: [LibraryBadInput] = argumentRows + acceptedRows + serverRows

    /// Bad arguments to calls on a working client: rejected before anything is sent.
    static let argumentRows: [LibraryBadInput] = {
        func row(_ input: String, api: String = "acquire", _ mentions: String..., call: @escaping @Sendable (RedLockClient, String) async throws -> Void) -> LibraryBadInput {
            LibraryBadInput(input, api: api, .fails(.invalidArgument), mentions: mentions) {
                let cluster = try await RedisCluster.start(count: 3)
                let resource = uniqueResource(input)
                return Scenario(attempt: { try await withClient(cluster.urls) { try await call($0, resource) } }, servers: cluster.servers)
            }
        }
        return [
            row("empty key", "empty") { client, _ in _ = try await client.acquire("", ttl: .seconds(5)) },
            row("1 MB key", "1048576 bytes", "4096") { client, _ in
                _ = try await client.acquire(String(repeating: "k", count: 1 << 20), ttl: .seconds(5))
            },
            row("4097-byte key", "4097 bytes") { client, _ in _ = try await client.acquire(String(repeating: "é", count: 2048) + "k", ttl: .seconds(5)) },
            row("TTL zero", "positive") { client, resource in _ = try await client.acquire(resource, ttl: .zero) },
            row("negative TTL", "positive") { client, resource in _ = try await client.acquire(resource, ttl: .seconds(-30)) },
            row("overflowing TTL (Int64.max seconds)", "365 days") { client, resource in
                _ = try await client.acquire(resource, ttl: .seconds(Int64.max))
            },
            row("TTL of one nanosecond", "too small") { client, resource in _ = try await client.acquire(resource, ttl: .nanoseconds(1)) },
            row("TTL smaller than drift and timeout", "too small", "per-server timeout") { client, resource in
                _ = try await client.acquire(resource, ttl: .milliseconds(3))
            },
            row("empty key", api: "tryAcquire", "empty") { client, _ in _ = try await client.tryAcquire("", ttl: .seconds(5)) },
            row("empty key", api: "inspect", "empty") { client, _ in _ = try await client.inspect("") },
            row("TTL zero", api: "withLock", "positive") { client, resource in
                try await client.withLock(resource, ttl: .zero) { _ in Issue.record("the body ran"); return }
            },
            row("extension TTL zero", api: "extend", "positive") { client, resource in
                let lock = try await client.acquire(resource, ttl: .seconds(5))
                do { _ = try await client.extend(lock, ttl: .zero) } catch { try? await client.release(lock); throw error }
                try? await client.release(lock)
            },
            row("extension TTL of Int64.max seconds", api: "extend", "365 days") { client, resource in
                let lock = try await client.acquire(resource, ttl: .seconds(5))
                do { _ = try await client.extend(lock, ttl: .seconds(Int64.max)) } catch { try? await client.release(lock); throw error }
                try? await client.release(lock)
            },
        ]
    }()

    /// Inputs the documentation accepts: they must work and leave nothing behind.
    static let acceptedRows: [LibraryBadInput] = [
        LibraryBadInput("binary bytes in the key (NUL, CR LF, DEL, non-ASCII)", api: "acquire/extend/release", .accepted) {
            let cluster = try await RedisCluster.start(count: 3)
            let resource = "bin:\u{0}\u{1}\r\n\u{7F}\u{FF}é😀:" + uniqueResource()
            return Scenario(attempt: {
                try await withClient(cluster.urls) { client in
                    let lock = try await client.acquire(resource, ttl: .seconds(5))
                    let held = try await cluster.keys("bin:*").filter { $0 == resource }.count
                    guard held >= 2 else { throw CatalogFailure("the exact key is on \(held) servers, not a majority") }
                    try await client.release(try await client.extend(lock))
                }
            }, servers: cluster.servers)
        },
        LibraryBadInput("key of exactly 4096 bytes", api: "acquire", .accepted) {
            let cluster = try await RedisCluster.start(count: 3)
            let base = uniqueResource()
            let resource = base + String(repeating: "x", count: 4096 - base.utf8.count)
            return Scenario(attempt: Scenario.acquireOnce(cluster.urls, resource), servers: cluster.servers)
        },
        LibraryBadInput("an even number of servers (4): accepted with one warning", api: "RedLockClient.init/acquire", .accepted) {
            let cluster = try await RedisCluster.start(count: 4)
            let resource = uniqueResource()
            return Scenario(attempt: {
                let logs = InMemoryLogHandler()
                try await withClient(cluster.urls, configure: { $0.logger = Logger(label: "catalog") { _ in logs } }) { client in
                    let lock = try await client.acquire(resource, ttl: .seconds(5))
                    guard lock.grantedBy.count >= 3 else { throw CatalogFailure("granted by \(lock.grantedBy.count) of 4; the quorum is 3") }
                    try await client.release(lock)
                }
                let warnings = logs.entries.filter { $0.level == .warning }
                guard warnings.count == 1, "\(warnings[0].message)".contains("even number") else {
                    throw CatalogFailure("expected one warning about the even count, got \(warnings)")
                }
            }, servers: cluster.servers)
        },
        LibraryBadInput("a negative wait while the key is held elsewhere (means: no wait)", api: "acquire(wait:)",
                        .fails(.heldElsewhere), mentions: ["another holder"], limit: .seconds(3)) {
            let cluster = try await RedisCluster.start(count: 3)
            let resource = uniqueResource()
            for server in cluster.servers.prefix(2) { try await server.command(["SET", resource, "someone-else", "PX", "60000"]) }
            return Scenario(attempt: {
                try await withClient(cluster.urls) { client in _ = try await client.acquire(resource, ttl: .seconds(5), wait: .upTo(.seconds(-1))) }
            }, servers: cluster.servers, seeded: [resource])
        },
        LibraryBadInput("an overflowing server timeout (Int64.max seconds)", api: "acquire", .fails(.invalidArgument),
                        mentions: ["too small", "per-server timeout"]) {
            let cluster = try await RedisCluster.start(count: 3)
            return Scenario(attempt: Scenario.acquireOnce(cluster.urls, uniqueResource()) { $0.tuning.serverTimeout = .seconds(Int64.max) },
                            servers: cluster.servers)
        },
    ]

    /// Servers that cannot take part: unreachable, unknown, refusing credentials, not Redis, erroring.
    /// One healthy harness server plus two bad ones, so a majority is missing and the healthy one
    /// must be cleaned up after the failed round.
    static let serverRows: [LibraryBadInput] = [
        badMajority("nothing listens on the port (refused)", mentions: ["connection failed|connection closed", "refused|back"]) { _ in
            let gone = try await RedisCluster.start(count: 2)
            gone.stopAll()
            try await Task.sleep(for: .milliseconds(50))
            return BadServers(urls: gone.urls, named: gone.servers.map { "127.0.0.1:\($0.port)" })
        },
        badMajority("unreachable address (TEST-NET-1, nothing answers)", mentions: ["timed out|connection failed|unreachable"]) { _ in
            BadServers(urls: ["redis://192.0.2.1:6379", "redis://192.0.2.2:6379"], named: ["192.0.2.1:6379", "192.0.2.2:6379"])
        },
        badMajority("unknown host names", mentions: ["cannot resolve host|timed out"]) { _ in
            BadServers(urls: ["redis://no-such-host.invalid:6379", "redis://also-missing.invalid"],
                       named: ["no-such-host.invalid:6379", "also-missing.invalid:6379"])
        },
        badMajority("a listener that answers HTTP", mentions: ["protocol error|connection closed"]) { _ in
            try BadServers.listeners(reply: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        },
        badMajority("a listener that says nothing", mentions: ["timed out"]) { _ in try BadServers.listeners(reply: nil) },
        badMajority("a listener that closes at once", mentions: ["closed without any reply|connection closed|protocol error"]) { _ in try BadServers.listeners(reply: "") },
        badMajority("a listener that answers +OK to everything", mentions: ["protocol error|connection closed"]) { _ in
            try BadServers.listeners(reply: String(repeating: "+OK\r\n", count: 16))
        },
        badMajority("a listener that promises a 1 TB bulk string", mentions: ["connection closed|protocol error"]) { _ in
            try BadServers.listeners(reply: "$1099511627776\r\nabc")
        },
        badMajority("a listener that sends nested arrays past hiredis' depth", mentions: ["protocol error|connection closed"]) { _ in
            try BadServers.listeners(reply: String(repeating: "*1\r\n", count: 12) + ":1\r\n")
        },
        badMajority("a listener that answers -ERR to everything", mentions: ["server error (ERR unknown|protocol error"]) { _ in
            try BadServers.listeners(reply: String(repeating: "-ERR unknown command\r\n", count: 16))
        },
        LibraryBadInput("wrong password in the configuration", api: "acquire", .fails(.noQuorum), mentions: ["authentication failed", "WRONGPASS"]) {
            let cluster = try await RedisCluster.start(count: 3, password: "right-pw-1")
            return Scenario(attempt: Scenario.acquireOnce(cluster.urls, uniqueResource()) { $0.password = "wrong-pw-123" },
                            servers: cluster.servers, named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: ["wrong-pw-123", "right-pw-1"])
        },
        LibraryBadInput("wrong password in the URL", api: "acquire", .fails(.noQuorum), mentions: ["authentication failed", "WRONGPASS"]) {
            let cluster = try await RedisCluster.start(count: 3, password: "right-pw-2")
            let urls = cluster.servers.map { "redis://:wrong%2Durl-pw@127.0.0.1:\($0.port)" }
            return Scenario(attempt: Scenario.acquireOnce(urls, uniqueResource()), servers: cluster.servers,
                            named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: ["wrong-url-pw", "wrong%2Durl-pw", "right-pw-2"])
        },
        LibraryBadInput("no password for servers that require one", api: "acquire", .fails(.noQuorum), mentions: ["authentication failed", "NOAUTH"]) {
            let cluster = try await RedisCluster.start(count: 3, password: "right-pw-3")
            return Scenario(attempt: Scenario.acquireOnce(cluster.urls, uniqueResource()), servers: cluster.servers,
                            named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: ["right-pw-3"])
        },
        aclRow("unknown ACL user", user: "intruder", password: "locker-pw", mentions: ["authentication failed", "WRONGPASS", "intruder:***@"]),
        aclRow("ACL user with the wrong password", user: "locker", password: "not-lockers-pw", mentions: ["authentication failed", "WRONGPASS"]),
        aclRow("disabled ACL user", user: "sleeper", password: "sleeper-pw", mentions: ["authentication failed", "WRONGPASS"]),
        aclRow("ACL user without write permission", user: "reader", password: "reader-pw", mentions: ["server error", "NOPERM"]),
        LibraryBadInput("database index out of range", api: "acquire", .fails(.noQuorum), mentions: ["DB index is out of range"],
                        alwaysShows: false) {
            let cluster = try await RedisCluster.start(count: 3)
            let urls = cluster.servers.map { "redis://127.0.0.1:\($0.port)/4096" }
            return Scenario(attempt: Scenario.acquireOnce(urls, uniqueResource()), servers: cluster.servers,
                            named: cluster.servers.map { "127.0.0.1:\($0.port)/4096" })
        },
        LibraryBadInput("the key holds another type on a majority (WRONGTYPE)", api: "acquire", .fails(.noQuorum), mentions: ["server error", "WRONGTYPE"]) {
            let cluster = try await RedisCluster.start(count: 3)
            let resource = uniqueResource()
            for server in cluster.servers.prefix(2) { try await server.command(["RPUSH", resource, "not-a-lock"]) }
            return Scenario(attempt: Scenario.acquireOnce(cluster.urls, resource), servers: cluster.servers, seeded: [resource],
                            named: cluster.servers.prefix(2).map { "127.0.0.1:\($0.port)" })
        },
        LibraryBadInput("a majority out of memory (maxmemory, noeviction)", api: "acquire", .fails(.noQuorum), mentions: ["server error", "OOM"]) {
            let cluster = try await RedisCluster.start(count: 3)
            for server in cluster.servers.prefix(2) {
                try await server.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
                try await server.command(["CONFIG", "SET", "maxmemory", "1"])
            }
            return Scenario(attempt: Scenario.acquireOnce(cluster.urls, uniqueResource()), servers: cluster.servers,
                            named: cluster.servers.prefix(2).map { "127.0.0.1:\($0.port)" })
        },
        LibraryBadInput("one server under two names (127.0.0.1 and 127.1), same database", api: "RedLockClient.init/acquire",
                        .fails(.invalidConfiguration), mentions: ["same server"]) {
            try await twoNamesForOneServer(databases: (0, 0))
        },
        LibraryBadInput("one server under two names and two databases (127.0.0.1/1 and 127.1/2)", api: "RedLockClient.init/acquire",
                        .fails(.invalidConfiguration), mentions: ["same server"]) {
            try await twoNamesForOneServer(databases: (1, 2))
        },
    ]

    /// Three addresses for two servers, the second of them stopped: server A as `127.0.0.1` with
    /// `databases.0` and as `127.1` with `databases.1`. Only A can vote, so no majority of
    /// independent servers exists.
    static func twoNamesForOneServer(databases: (Int, Int)) async throws -> Scenario {
        let cluster = try await RedisCluster.start(count: 2)
        let (a, b) = (cluster.servers[0], cluster.servers[1])
        b.stop()
        let urls = ["redis://127.0.0.1:\(a.port)/\(databases.0)", "redis://127.1:\(a.port)/\(databases.1)", b.url]
        let resource = uniqueResource()
        let attempt: @Sendable () async throws -> Void = {
            try await withClient(urls) { client in
                let lock = try await client.acquire(resource, ttl: .seconds(5))
                try await client.release(lock)
                throw CatalogFailure("a lock was granted by \(lock.grantedBy.count) addresses of one single live server")
            }
        }
        return Scenario(attempt: attempt, servers: [a], named: ["127.0.0.1:\(a.port)"])
    }

    /// What a bad-majority row puts beside its healthy server.
    struct BadServers: Sendable {
        var urls: [String]
        var named: [String]
        var listeners: [GarbageServer] = []

        /// Two plain TCP listeners that answer every connection with `reply` (or nothing).
        static func listeners(reply: String?) throws -> BadServers {
            let listeners = try [GarbageServer(reply: reply), GarbageServer(reply: reply)]
            return BadServers(urls: listeners.map(\.url), named: listeners.map { "127.0.0.1:\($0.port)" }, listeners: listeners)
        }
    }

    /// One healthy server and two bad ones: no quorum, the bad ones named, nothing left on the healthy one.
    static func badMajority(_ input: String, mentions: [String], bad: @escaping @Sendable (RedisServerProcess) async throws -> BadServers) -> LibraryBadInput {
        LibraryBadInput(input, api: "acquire", .fails(.noQuorum), mentions: mentions) {
            let healthy = try await RedisServerProcess.start()
            let servers = try await bad(healthy)
            let attempt = Scenario.acquireOnce([healthy.url] + servers.urls, uniqueResource()) { $0.tuning.serverTimeout = .milliseconds(500) }
            return Scenario(attempt: attempt, servers: [healthy], named: servers.named, keepAlive: servers.listeners)
        }
    }

    /// Three servers with ACL users `locker` (may lock), `reader` (read only) and `sleeper`
    /// (disabled); the client logs in as `user`.
    static func aclRow(_ input: String, user: String, password: String, mentions: [String], knownIssue: String? = nil) -> LibraryBadInput {
        LibraryBadInput(input, api: "acquire", .fails(.noQuorum), mentions: mentions, knownIssue: knownIssue, alwaysShows: false) {
            let cluster = try await RedisCluster.start(count: 3)
            for server in cluster.servers {
                try await server.command(["ACL", "SETUSER", "locker", "on", ">locker-pw", "~*", "+@all"])
                try await server.command(["ACL", "SETUSER", "reader", "on", ">reader-pw", "~*", "+@read", "+@connection"])
                try await server.command(["ACL", "SETUSER", "sleeper", "off", ">sleeper-pw", "~*", "+@all"])
            }
            let urls = cluster.servers.map { "redis://\(user):\(password)@127.0.0.1:\($0.port)" }
            return Scenario(attempt: Scenario.acquireOnce(urls, uniqueResource()), servers: cluster.servers,
                            named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: [password])
        }
    }
}
