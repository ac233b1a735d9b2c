import CronlockCore
import Foundation
import RedisTestSupport
import Testing
import TestLoad

/// cronlock's half of the bad-input catalog (issue 6): each row runs the built binary with one bad
/// input and checks
/// - the documented exit code (64 usage, 69 no quorum, 75 held elsewhere, or 0 for inputs the
///   README accepts);
/// - one clear line on stderr, `cronlock: …`, naming the problem (and each failing server), with no
///   password and no control characters; nothing on stdout; the command never ran;
/// - that cronlock exits within a bound (no hang), and leaves no key on any server the row started.
///
/// The library's half, with the same inputs at the API, is `Tests/RedLockTests/BadInputCatalogTests.swift`.
@Suite("Bad-input catalog: cronlock", .load(.heavy))
struct CronlockBadInputCatalogTests {
    @Test("rejected before any server is asked", arguments: CronlockBadInput.usage)
    func rejectedBeforeAnyServerIsAsked(_ row: CronlockBadInput) async throws {
        try await row.check()
    }

    @Test("against real servers", .serialized, needsRedis, arguments: CronlockBadInput.withServers)
    func againstRealServers(_ row: CronlockBadInput) async throws {
        try await row.check()
    }

    @Test func theCatalogCoversEnoughInputs() {
        #expect(CronlockBadInput.usage.count + CronlockBadInput.withServers.count >= 30)
    }
}

/// One row: an input to the `cronlock` binary and what must come of it.
struct CronlockBadInput: Sendable, CustomTestStringConvertible {
    /// The bad input, as a person would describe it.
    let input: String
    /// The documented exit code.
    let exitCode: Int32
    /// Fragments the output must contain (stderr, and stdout for `status`); `a|b` accepts either.
    let mentions: [String]
    /// How long cronlock may take, before `timeScale`.
    let limit: Duration
    /// Set while cronlock mishandles this input: the row states the intended behaviour and is
    /// expected to fail (see the issue-6 report).
    let knownIssue: String?
    /// Whether the known issue shows on every run (else it is intermittent).
    let alwaysShows: Bool
    let scenario: @Sendable () async throws -> CronlockScenario

    init(_ input: String, exits exitCode: Int32, mentions: [String] = [], limit: Duration = .seconds(20),
         knownIssue: String? = nil, alwaysShows: Bool = true, scenario: @escaping @Sendable () async throws -> CronlockScenario) {
        self.input = input
        self.exitCode = exitCode
        self.mentions = mentions
        self.limit = limit
        self.knownIssue = knownIssue
        self.alwaysShows = alwaysShows
        self.scenario = scenario
    }

    var testDescription: String { "\(input) → \(exitCode)" }

    /// Runs cronlock and checks everything the row promises.
    func check() async throws {
        let scenario = try await self.scenario()
        let command = scenario.isStatus ? [] : ["--", "touch", scenario.marker]
        let result = try await CronlockProcess.run(scenario.arguments + command, environment: scenario.environment, within: limit.scaled)
        if let knownIssue {
            await withKnownIssue(Comment(rawValue: knownIssue), isIntermittent: !alwaysShows) {
                try await verify(result, scenario)
            }
        } else {
            try await verify(result, scenario)
        }
        _ = scenario.keepAlive
    }

    private func verify(_ result: CronlockProcess.Result, _ scenario: CronlockScenario) async throws {
        #expect(result.code == exitCode, "\(result)")
        let ran = FileManager.default.fileExists(atPath: scenario.marker)
        switch exitCode {
        case 0:
            #expect(ran, "the command did not run: \(result)")
            #expect(result.stdout.isEmpty && result.stderr.isEmpty, "silent on success: \(result)")
        case CronlockExit.heldElsewhere:
            #expect(!ran, "the command ran")
            #expect(result.stdout.isEmpty && result.stderr.isEmpty, "silent on skip: \(result)")
        default:
            #expect(!ran, "the command ran")
            expectClear(result, scenario)
        }
        try await expectNothingLeft(scenario)
    }

    private func expectClear(_ result: CronlockProcess.Result, _ scenario: CronlockScenario) {
        let output = scenario.isStatus ? result.stdout + result.stderr : result.stderr
        if !scenario.isStatus {
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.hasPrefix("cronlock: ") && result.stderr.hasSuffix("\n"), "\(result)")
            #expect(result.stderr.split(separator: "\n", omittingEmptySubsequences: false).count == 2, "one line: \(result)")
            #expect(!result.stderr.dropLast().unicodeScalars.contains { $0.properties.generalCategory == .control },
                    "control characters: \(result)")
        }
        for fragment in mentions {
            let choices = fragment.split(separator: "|").map(String.init)
            #expect(choices.contains { output.contains($0) }, "lacks \"\(fragment)\": \(result)")
        }
        for server in scenario.named {
            #expect(output.contains(server), "does not name \(server): \(result)")
        }
        for secret in scenario.secrets {
            #expect(!output.contains(secret), "shows a password: \(result)")
        }
    }

    /// Polls the row's servers until only the keys it seeded remain. Job-control records
    /// (`<prefix>_jc:…`: run history, the job list) are kept on purpose and do not count.
    private func expectNothingLeft(_ scenario: CronlockScenario) async throws {
        func lockKeys(_ server: RedisServerProcess) async throws -> [String] {
            try await server.keys().filter { !scenario.seeded.contains($0) && !$0.hasPrefix("cronlock:_jc:") && !$0.hasPrefix("_jc:") }
        }
        for server in scenario.servers {
            let deadline = ContinuousClock.now + Duration.seconds(2).scaled
            var left = try await lockKeys(server)
            while !left.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                left = try await lockKeys(server)
            }
            #expect(left.isEmpty, "keys left on 127.0.0.1:\(server.port): \(left.map(\.debugDescription))")
        }
    }
}

/// What one row runs: cronlock's arguments (the command, `touch marker`, is appended), its
/// environment, and what to check afterwards.
struct CronlockScenario: Sendable {
    var arguments: [String]
    var environment: [String: String] = [:]
    /// Servers the row started: afterwards they may hold no key but `seeded`.
    var servers: [RedisServerProcess] = []
    var seeded: Set<String> = []
    /// `host:port` of every server the message must name.
    var named: [String] = []
    /// Passwords that must never be printed.
    var secrets: [String] = []
    /// Listeners that must live as long as the row.
    var keepAlive: [GarbageServer] = []
    /// True for `cronlock status`, which reports per server on stdout.
    var isStatus = false
    /// Created by the command when it runs.
    let marker: String
    private let scratch: Scratch
    /// Files the arguments refer to (e.g. a password file), removed with the scenario.
    private let files: [Scratch]

    init(_ arguments: [String], environment: [String: String] = [:], servers: [RedisServerProcess] = [], seeded: Set<String> = [],
         named: [String] = [], secrets: [String] = [], keepAlive: [GarbageServer] = [], isStatus: Bool = false, files: [Scratch] = []) throws {
        self.arguments = arguments
        self.environment = environment
        self.servers = servers
        self.seeded = seeded
        self.named = named
        self.secrets = secrets
        self.keepAlive = keepAlive
        self.isStatus = isStatus
        self.files = files
        scratch = try Scratch()
        marker = scratch.file("ran")
    }

    /// A file holding `contents` (for `--password-file`) in a scratch directory the caller keeps.
    static func file(_ contents: String) throws -> (path: String, directory: Scratch) {
        let directory = try Scratch()
        return (try directory.write("password", contents, permissions: 0o600), directory)
    }
}

// MARK: - Usage errors (64): no server is asked

extension CronlockBadInput {
    static let usage: [CronlockBadInput] = {
        // Rows that name no server get one where nothing listens, so that a row which wrongly gets
        // past parsing can never reach a Redis the tests did not start.
        func row(_ input: String, _ arguments: [String], environment: [String: String] = [:], _ mentions: String...,
                 secrets: [String] = []) -> CronlockBadInput {
            let namesServers = arguments.contains("--server") || environment["CRONLOCK_SERVERS"] != nil
            let safe = namesServers ? arguments : arguments + ["--server", "redis://127.0.0.1:1"]
            return CronlockBadInput(input, exits: CronlockExit.usage, mentions: mentions) {
                try CronlockScenario(safe, environment: environment, secrets: secrets)
            }
        }
        let job = ["--key", "catalog-job"]
        return [
            row("port 0", job + ["--server", "redis://127.0.0.1:0"], #"port "0""#),
            row("port 70000", job + ["--server", "127.0.0.1:70000"], #"port "70000""#),
            row("IPv6 without brackets", job + ["--server", "fe80::1"], "brackets"),
            row("userinfo without a host", job + ["--server", "redis://locker:s3cret-pw@"], "host is missing", secrets: ["s3cret-pw"]),
            row("10 kB server URL", job + ["--server", "redis://" + String(repeating: "a", count: 10_240)], "4096"),
            row("control character in the URL", job + ["--server", "redis://ho\u{7}st:6379"], "control characters"),
            row("escape sequence in the URL", job + ["--server", "redis://\u{1B}[2Jhost"], "control characters"),
            row("unknown scheme", job + ["--server", "http://127.0.0.1:6379"], "unknown scheme"),
            row("CRONLOCK_SERVERS of commas only", job, environment: ["CRONLOCK_SERVERS": " , ,"], "names no server"),
            row("bad URL in CRONLOCK_SERVERS", job, environment: ["CRONLOCK_SERVERS": "redis://a:0,redis://b"], #"port "0""#),
            row("the same server twice", job + ["--server", "127.0.0.1:7000", "--server", "redis://127.0.0.1:7000/3"], "twice"),
            row("control characters in the key (newline, escape)", ["--key", "line\nbreak\u{1B}[31m"], "--key", "control characters"),
            row("a tab in the prefix", job + ["--prefix", "cron\tlock:"], "--prefix", "control characters"),
            row("a key with a trailing space", ["--key", "nightly "], "--key", "space"),
            row("TTL zero", job + ["--ttl", "0s"], "--ttl", "too small"),
            row("TTL of 0.4 ms", job + ["--ttl", "0.4ms"], "--ttl", "at least 100ms"),
            row("negative TTL given as a separate argument", job + ["--ttl", "-5s"], "-5s"),
            row("negative conflict exit code", job + ["-E", "-1"], "conflict-exit-code"),
            row("negative TTL", job + ["--ttl=-5s"], "-5s"),
            row("overflowing TTL", job + ["--ttl", "99999999999999999999h"], "longer than a year"),
            row("TTL in exponent form", job + ["--ttl", "1e3s"], "1e3s", "not a duration"),
            row("empty TTL", job + ["--ttl", ""], "not a duration"),
            row("TTL without a unit", job + ["--ttl", "30"], #""30""#),
            row("TTL of 2 ms (positive, but no time to renew)", job + ["--ttl", "2ms"], "too small", "at least 100ms"),
            row("negative wait", job + ["--wait=-1s"], "-1s"),
            row("overflowing min-hold", job + ["--min-hold", "1e400s"], "1e400s"),
            row("min-hold without a unit", job + ["--min-hold", "5"], #""5""#),
            row("timeout zero", job + ["--timeout", "0ms"], "--timeout"),
            row("kill-after with two dots", job + ["--kill-after", "1.5.5s"], "1.5.5s"),
            row("empty key", ["--key", ""], "--key"),
            row("100 kB key", ["--key", String(repeating: "k", count: 100_000)], "4096"),
            row("negative conflict exit code", job + ["--conflict-exit-code=-1"], "0 to 255"),
            row("conflict exit code beyond Int32", job + ["-E", "99999999999"], "conflict-exit-code"),
            row("unreadable password file (a directory)", job + ["--password-file", "/"], "--password-file"),
            row("--key given twice", job + ["--key", "other-job"], "--key is given 2 times"),
            row("--key given twice, once with =", ["--key=a", "--prefix", "p:", "--key", "b"], "--key is given 2 times"),
            row("empty --fail-pattern (would fail every run)", job + ["--fail-pattern", ""], "--fail-pattern is empty"),
            row("--notify-on without --notify", job + ["--notify-on", "always"], "--notify-on needs --notify"),
            CronlockBadInput("empty password file", exits: CronlockExit.usage, mentions: ["--password-file", "empty"]) {
                let file = try CronlockScenario.file("")
                return try CronlockScenario(job + ["--server", "redis://127.0.0.1:1", "--password-file", file.path], files: [file.directory])
            },
        ]
    }()
}

// MARK: - Rows with servers

extension CronlockBadInput {
    static let withServers: [CronlockBadInput] = noQuorumRows + otherServerRows

    /// The arguments for `urls` with a short TTL (so per-server timeouts are short) and no min-hold.
    static func run(_ urls: [String], key: String = "catalog-\(UUID().uuidString.prefix(8))") -> [String] {
        urls.flatMap { ["--server", $0] } + ["--key", key, "--ttl", "3s", "--min-hold", "0s"]
    }

    /// Servers that cannot take part: 69, each failing server named.
    static let noQuorumRows: [CronlockBadInput] = [
        badMajority("nothing listens on the port (refused)", mentions: ["connection failed|connection closed"]) {
            let gone = try await RedisCluster.start(count: 2)
            gone.stopAll()
            try await Task.sleep(for: .milliseconds(50))
            return (gone.urls, gone.servers.map { "127.0.0.1:\($0.port)" }, [])
        },
        badMajority("unknown host names", mentions: ["cannot resolve host|timed out"]) {
            (["redis://no-such-host.invalid:6379", "no-such-host-2.invalid"], ["no-such-host.invalid:6379", "no-such-host-2.invalid:6379"], [])
        },
        badMajority("a listener that answers HTTP", mentions: ["protocol error|connection closed"]) {
            let listeners = try [GarbageServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n"), GarbageServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n")]
            return (listeners.map(\.url), listeners.map { "127.0.0.1:\($0.port)" }, listeners)
        },
        badMajority("a listener that answers HTTP and stays connected", mentions: ["protocol error", "not a Redis server?"]) {
            let listeners = try [GarbageServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n", keepsOpen: true),
                                 GarbageServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n", keepsOpen: true)]
            return (listeners.map(\.url), listeners.map { "127.0.0.1:\($0.port)" }, listeners)
        },
        badMajority("a listener that says nothing", mentions: ["timed out"]) {
            let listeners = try [GarbageServer(reply: nil), GarbageServer(reply: nil)]
            return (listeners.map(\.url), listeners.map { "127.0.0.1:\($0.port)" }, listeners)
        },
        CronlockBadInput("wrong password in CRONLOCK_PASSWORD", exits: CronlockExit.noQuorum, mentions: ["authentication failed", "WRONGPASS"]) {
            let cluster = try await RedisCluster.start(count: 3, password: "right-pw-1")
            return try CronlockScenario(run(cluster.urls), environment: ["CRONLOCK_PASSWORD": "wrong-env-pw"], servers: cluster.servers,
                                        named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: ["wrong-env-pw", "right-pw-1"])
        },
        CronlockBadInput("wrong password in --password-file", exits: CronlockExit.noQuorum, mentions: ["authentication failed", "WRONGPASS"]) {
            let cluster = try await RedisCluster.start(count: 3, password: "right-pw-2")
            let file = try CronlockScenario.file("wrong-file-pw\n")
            return try CronlockScenario(run(cluster.urls) + ["--password-file", file.path], servers: cluster.servers,
                                        named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: ["wrong-file-pw", "right-pw-2"],
                                        files: [file.directory])
        },
        CronlockBadInput("no password for servers that require one", exits: CronlockExit.noQuorum,
                         mentions: ["NOAUTH", "none was given", "give the password with --password-file FILE or CRONLOCK_PASSWORD"]) {
            let cluster = try await RedisCluster.start(count: 3, password: "right-pw-3")
            return try CronlockScenario(run(cluster.urls), servers: cluster.servers, named: cluster.servers.map { "127.0.0.1:\($0.port)" },
                                        secrets: ["right-pw-3"])
        },
        aclRow("unknown ACL user", user: "intruder", password: "locker-pw", mentions: ["WRONGPASS", "intruder:***@"]),
        aclRow("ACL user without write permission", user: "reader", password: "reader-pw", mentions: ["NOPERM"]),
        CronlockBadInput("database index out of range", exits: CronlockExit.noQuorum, mentions: ["database 999 does not exist on this server"],
                         alwaysShows: false) {
            let cluster = try await RedisCluster.start(count: 3)
            return try CronlockScenario(run(cluster.servers.map { "redis://127.0.0.1:\($0.port)/999" }), servers: cluster.servers,
                                        named: cluster.servers.map { "127.0.0.1:\($0.port)/999" })
        },
        CronlockBadInput("the key holds another type on a majority (WRONGTYPE)", exits: CronlockExit.noQuorum, mentions: ["WRONGTYPE"]) {
            let cluster = try await RedisCluster.start(count: 3)
            let key = "catalog-\(UUID().uuidString.prefix(8))"
            for server in cluster.servers.prefix(2) { try await server.command(["RPUSH", "cronlock:\(key)", "x"]) }
            return try CronlockScenario(run(cluster.urls, key: key), servers: cluster.servers, seeded: ["cronlock:\(key)"],
                                        named: cluster.servers.prefix(2).map { "127.0.0.1:\($0.port)" })
        },
        CronlockBadInput("a majority out of memory (maxmemory, noeviction)", exits: CronlockExit.noQuorum, mentions: ["OOM"]) {
            let cluster = try await RedisCluster.start(count: 3)
            for server in cluster.servers.prefix(2) { try await server.command(["CONFIG", "SET", "maxmemory", "1"]) }
            return try CronlockScenario(run(cluster.urls), servers: cluster.servers, named: cluster.servers.prefix(2).map { "127.0.0.1:\($0.port)" })
        },
        CronlockBadInput("status with unreachable servers", exits: CronlockExit.noQuorum, mentions: ["connection failed|connection closed|backing off"]) {
            let gone = try await RedisCluster.start(count: 3)
            gone.stopAll()
            return try CronlockScenario(["status", "--key", "catalog-status"] + gone.urls.flatMap { ["--server", $0] },
                                        named: gone.servers.map { "127.0.0.1:\($0.port)" }, isStatus: true)
        },
    ]

    /// Inputs that are valid or mean "held elsewhere": they must behave as documented.
    static let otherServerRows: [CronlockBadInput] = [
        CronlockBadInput("key held on a majority by a value cronlock did not write", exits: CronlockExit.heldElsewhere) {
            let cluster = try await RedisCluster.start(count: 3)
            let key = "catalog-\(UUID().uuidString.prefix(8))"
            for server in cluster.servers.prefix(2) { try await server.command(["SET", "cronlock:\(key)", "\u{1}foreign", "PX", "60000"]) }
            return try CronlockScenario(run(cluster.urls, key: key), servers: cluster.servers, seeded: ["cronlock:\(key)"])
        },
        CronlockBadInput("non-ASCII and punctuation in the key: accepted", exits: 0) {
            let cluster = try await RedisCluster.start(count: 3)
            return try CronlockScenario(run(cluster.urls, key: "nightly/é😀:{x}-\(UUID().uuidString.prefix(6))"), servers: cluster.servers)
        },
        CronlockBadInput("an even number of servers (4): accepted, silent", exits: 0) {
            let cluster = try await RedisCluster.start(count: 4)
            return try CronlockScenario(run(cluster.urls), servers: cluster.servers)
        },
        CronlockBadInput("empty prefix: the key is the bare name (documented)", exits: 0) {
            let cluster = try await RedisCluster.start(count: 3)
            return try CronlockScenario(run(cluster.urls) + ["--prefix", ""], servers: cluster.servers)
        },
    ]

    /// One healthy server and two bad ones: 69, the bad ones named, nothing left on the healthy one.
    static func badMajority(_ input: String, mentions: [String],
                            bad: @escaping @Sendable () async throws -> (urls: [String], named: [String], listeners: [GarbageServer])) -> CronlockBadInput {
        CronlockBadInput(input, exits: CronlockExit.noQuorum, mentions: mentions) {
            let healthy = try await RedisServerProcess.start()
            let (urls, named, listeners) = try await bad()
            return try CronlockScenario(run([healthy.url] + urls), servers: [healthy], named: named, keepAlive: listeners)
        }
    }

    /// Three servers with ACL users `locker` (may lock) and `reader` (read only); cronlock logs in as `user`.
    static func aclRow(_ input: String, user: String, password: String, mentions: [String], knownIssue: String? = nil) -> CronlockBadInput {
        CronlockBadInput(input, exits: CronlockExit.noQuorum, mentions: mentions, knownIssue: knownIssue, alwaysShows: false) {
            let cluster = try await RedisCluster.start(count: 3)
            for server in cluster.servers {
                try await server.command(["ACL", "SETUSER", "locker", "on", ">locker-pw", "~*", "+@all"])
                try await server.command(["ACL", "SETUSER", "reader", "on", ">reader-pw", "~*", "+@read", "+@connection"])
            }
            return try CronlockScenario(run(cluster.servers.map { "redis://\(user):\(password)@127.0.0.1:\($0.port)" }), servers: cluster.servers,
                                        named: cluster.servers.map { "127.0.0.1:\($0.port)" }, secrets: [password])
        }
    }

    /// See the library catalog: the SET pipelined behind a failed `AUTH`/`SELECT` still runs.
}
