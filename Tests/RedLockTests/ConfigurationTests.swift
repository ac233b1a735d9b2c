@testable import RedLock
import Testing

/// `RedLockClient(configuration:)` validation and `acquire` argument validation, which both throw
/// before any network I/O, so no server is needed. Clients point at 127.0.0.1:1, where nothing
/// listens; they only connect in the background.
@Suite("Configuration and argument validation")
struct ConfigurationTests {
    static let unusedServer = RedisServerAddress(endpoint: .tcp(host: "127.0.0.1", port: 1))

    /// A configuration whose only server is `unusedServer`.
    static func configuration(_ configure: (inout RedLockConfiguration) -> Void = { _ in }) -> RedLockConfiguration {
        var configuration = RedLockConfiguration(servers: [unusedServer])
        configure(&configuration)
        return configuration
    }

    // MARK: The client's configuration

    @Test func validConfigurationCreatesAClientWithoutAnyServerRunning() async throws {
        let servers = (1...3).map { RedisServerAddress(endpoint: .tcp(host: "127.0.0.1", port: $0)) }
        try await withClient(RedLockConfiguration(servers: servers)) { client in
            #expect(client.quorum == 2)
            #expect(client.configuration.servers == servers)
        }
    }

    @Test func configurationWithoutServersIsRejected() async {
        let error = await expectRedLockError(.invalidConfiguration) {
            try RedLockClient(configuration: RedLockConfiguration(servers: []))
        }
        #expect(error?.message.contains("no servers") == true, "\(String(describing: error))")
    }

    /// Pairs of addresses that name the same server (database and credentials do not make it another).
    static let duplicates: [(String, String)] = [
        ("redis://10.0.0.1:6379", "redis://10.0.0.1:6379"),
        ("redis://10.0.0.1", "10.0.0.1:6379"),
        ("redis://10.0.0.1/1", "redis://10.0.0.1/2"),
        ("redis://:pw@[::1]:7000", "[::1]:7000"),
        ("unix:///tmp/redis.sock", "unix://:pw@/tmp/redis.sock?db=3"),
        ("redis://cache.example.com", "redis://CACHE.example.com"),
    ]

    @Test("a server listed twice is rejected", arguments: duplicates)
    func serverListedTwiceIsRejected(_ first: String, _ second: String) async throws {
        let configuration = try RedLockConfiguration(serverAddresses: ["redis://10.9.9.9", first, second])
        guard let error = await expectRedLockError(.invalidConfiguration, { try RedLockClient(configuration: configuration) }) else { return }
        #expect(error.message.contains("twice"), "\(error)")
        #expect(!error.message.contains("pw"), "the message must not show a password")
    }

    @Test func sameHostOnDifferentPortsOrSocketsIsNotADuplicate() async throws {
        let configuration = try RedLockConfiguration(serverAddresses: ["127.0.0.1:1", "127.0.0.1:2", "unix:///nonexistent/redis.sock"])
        try await withClient(configuration) { client in
            #expect(client.quorum == 2)
        }
    }

    /// A setting out of range, and the name the message must give.
    struct BadSetting: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let names: String
        let configure: @Sendable (inout RedLockConfiguration) -> Void
    }

    static let badSettings: [BadSetting] = [
        BadSetting(testDescription: "driftFactor -0.01", names: "driftFactor") { $0.driftFactor = -0.01 },
        BadSetting(testDescription: "driftFactor 0.5", names: "driftFactor") { $0.driftFactor = 0.5 },
        BadSetting(testDescription: "driftFactor 2", names: "driftFactor") { $0.driftFactor = 2 },
        BadSetting(testDescription: "driftFactor NaN", names: "driftFactor") { $0.driftFactor = .nan },
        BadSetting(testDescription: "driftFactor infinity", names: "driftFactor") { $0.driftFactor = .infinity },
        BadSetting(testDescription: "driftAllowance -1 ms", names: "driftAllowance") { $0.driftAllowance = .milliseconds(-1) },
        BadSetting(testDescription: "retryAttempts 0", names: "retryAttempts") { $0.retryAttempts = 0 },
        BadSetting(testDescription: "retryAttempts -3", names: "retryAttempts") { $0.retryAttempts = -3 },
        BadSetting(testDescription: "retryDelay -1 ms", names: "retryDelay") { $0.retryDelay = .milliseconds(-1) },
        BadSetting(testDescription: "retryDelay zero", names: "retryDelay") { $0.retryDelay = .zero },
        BadSetting(testDescription: "serverTimeout 0", names: "serverTimeout") { $0.serverTimeout = .zero },
        BadSetting(testDescription: "serverTimeout -1 s", names: "serverTimeout") { $0.serverTimeout = .seconds(-1) },
        BadSetting(testDescription: "minimum reconnect delay > maximum", names: "reconnect") {
            $0.minimumReconnectDelay = .seconds(3)
            $0.maximumReconnectDelay = .seconds(2)
        },
        BadSetting(testDescription: "minimum reconnect delay 0", names: "reconnect") { $0.minimumReconnectDelay = .zero },
        BadSetting(testDescription: "negative minimum validity", names: "minimumValidity") { $0.minimumValidity = .milliseconds(-1) },
    ]

    @Test("a setting out of range is rejected", arguments: badSettings)
    func settingOutOfRangeIsRejectedByName(_ setting: BadSetting) async {
        let error = await expectRedLockError(.invalidConfiguration) {
            try RedLockClient(configuration: Self.configuration(setting.configure))
        }
        #expect(error?.message.contains(setting.names) == true, "\(String(describing: error))")
    }

    @Test func settingsAtTheEdgeOfTheirRangesAreAccepted() async throws {
        let configuration = Self.configuration {
            $0.driftFactor = 0
            $0.driftAllowance = .zero
            $0.retryAttempts = 1
            $0.retryDelay = .milliseconds(1)
            $0.serverTimeout = .nanoseconds(1)
            $0.minimumReconnectDelay = .seconds(2)
            $0.maximumReconnectDelay = .seconds(2)
        }
        try await withClient(configuration) { client in
            #expect(client.configuration.retryAttempts == 1)
        }
    }

    // MARK: acquire's arguments

    /// A bad `acquire` call, and the words its message must contain.
    struct BadArgument: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let resource: String
        let ttl: Duration
        let says: String
        var serverTimeout: Duration? = nil
    }

    static let badArguments: [BadArgument] = [
        BadArgument(testDescription: "empty resource", resource: "", ttl: .seconds(10), says: "empty"),
        BadArgument(testDescription: "4097-byte resource", resource: String(repeating: "r", count: 4097), ttl: .seconds(10),
                    says: "4097 bytes"),
        BadArgument(testDescription: "4098-byte resource of 2049 characters", resource: String(repeating: "é", count: 2049),
                    ttl: .seconds(10), says: "4098 bytes"),
        BadArgument(testDescription: "1 MB resource", resource: String(repeating: "x", count: 1 << 20), ttl: .seconds(10),
                    says: "1048576 bytes"),
        BadArgument(testDescription: "TTL zero", resource: "r", ttl: .zero, says: "positive"),
        BadArgument(testDescription: "TTL -1 s", resource: "r", ttl: .seconds(-1), says: "positive"),
        BadArgument(testDescription: "TTL -1 ns", resource: "r", ttl: .nanoseconds(-1), says: "positive"),
        BadArgument(testDescription: "TTL 365 days + 1 ms", resource: "r", ttl: .seconds(365 * 24 * 3600) + .milliseconds(1),
                    says: "365 days"),
        BadArgument(testDescription: "TTL 100 years", resource: "r", ttl: .seconds(100 * 365 * 24 * 3600), says: "365 days"),
        BadArgument(testDescription: "TTL 2 ms (drift eats it)", resource: "r", ttl: .milliseconds(2), says: "too small"),
        BadArgument(testDescription: "TTL 1 ns", resource: "r", ttl: .nanoseconds(1), says: "too small"),
        BadArgument(testDescription: "TTL 1 s with a 1 s server timeout", resource: "r", ttl: .seconds(1), says: "too small",
                    serverTimeout: .seconds(1)),
    ]

    @Test("acquire rejects a bad argument before any I/O", arguments: badArguments)
    func acquireRejectsBadArgumentByName(_ argument: BadArgument) async throws {
        try await withClient(Self.configuration { $0.serverTimeout = argument.serverTimeout }) { client in
            let start = ContinuousClock.now
            let error = await expectRedLockError(.invalidArgument) { try await client.acquire(argument.resource, ttl: argument.ttl) }
            #expect(ContinuousClock.now - start < Duration.milliseconds(500).scaled)
            #expect(error?.message.contains(argument.says) == true, "\(String(describing: error))")
            #expect((error?.description.utf8.count ?? 0) < 1000, "the description must not echo a huge resource name")
            #expect(error?.servers.isEmpty == true, "no server was involved")
            await expectRedLockError(.invalidArgument) { try await client.tryAcquire(argument.resource, ttl: argument.ttl) }
        }
    }

    /// The boundaries themselves pass validation: the call goes on to the (absent) server and fails
    /// with `.noQuorum`, not `.invalidArgument`.
    static let boundaryArguments: [BadArgument] = [
        BadArgument(testDescription: "4096-byte resource", resource: String(repeating: "r", count: 4096), ttl: .seconds(10),
                    says: "servers"),
        BadArgument(testDescription: "TTL 365 days", resource: "r", ttl: .seconds(365 * 24 * 3600), says: "servers"),
        BadArgument(testDescription: "TTL 10 ms", resource: "r", ttl: .milliseconds(10), says: "servers"),
    ]

    @Test("acquire accepts arguments on the boundary", arguments: boundaryArguments)
    func acquireAcceptsBoundaryArguments(_ argument: BadArgument) async throws {
        try await withClient(Self.configuration { $0.retryAttempts = 1 }) { client in
            let error = await expectRedLockError(.noQuorum) { try await client.acquire(argument.resource, ttl: argument.ttl) }
            #expect(error?.servers.map(\.outcome.isFailure) == [true], "\(String(describing: error))")
        }
    }

    // MARK: RedLockError

    @Test func errorEqualityComparesCodesOnly() {
        let report = ServerReport(server: Self.unusedServer, outcome: ServerOutcome(.timedOut))
        let one = RedLockError(.noQuorum, "one message", resource: "a", servers: [report])
        let other = RedLockError(.noQuorum, "another message", resource: "b")
        #expect(one == other)
        #expect(one != RedLockError(.heldElsewhere, "one message", resource: "a", servers: [report]))
        #expect(RedLockError(.invalidArgument, "x") != RedLockError(.invalidConfiguration, "x"))
        #expect(throws: RedLockError(.invalidConfiguration, "whatever the message")) {
            try RedisServerAddress(parsing: "redis://host:0")
        }
    }

    @Test func errorDescriptionNamesCodeResourceAndFailedServersOnly() {
        let password = RedisServerAddress(endpoint: .tcp(host: "10.0.0.2", port: 6379), password: "Hunter2-Pa55")
        let error = RedLockError(.noQuorum, "too few servers", resource: "jobs:nightly", servers: [
            ServerReport(server: Self.unusedServer, outcome: ServerOutcome(.granted)),
            ServerReport(server: password, outcome: ServerOutcome(.connectionFailed, detail: "Connection refused")),
        ])
        #expect(error.description == "redlock: no quorum for \"jobs:nightly\": too few servers [redis://:***@10.0.0.2:6379: connection failed (Connection refused)]")
    }

    /// Each outcome in plain words (issue 18): no "not awaited" or "skipped while reconnecting",
    /// a missing database and a missing password named as such, a hint for a listener that is not Redis.
    @Test func serverOutcomesSayWhatHappenedInPlainWords() {
        let server = RedisServerAddress(endpoint: .tcp(host: "10.0.0.3", port: 6379), password: "Hunter2-Pa55", database: 99)
        let refused = ServerOutcome(.connectionFailed, detail: "Connection refused")
        let cases: [(ServerOutcome, String)] = [
            (ServerOutcome(.backingOff, detail: refused.description),
             "redis://:***@10.0.0.3:6379/99: not asked, reconnecting after: connection failed (Connection refused)"),
            (ServerOutcome(.notAwaited), "redis://:***@10.0.0.3:6379/99: not waited for: the round was decided without it"),
            (ServerOutcome(.protocolError, detail: #"Protocol error, got "H" as reply type byte"#),
             #"redis://:***@10.0.0.3:6379/99: protocol error (Protocol error, got "H" as reply type byte; not a Redis server?)"#),
            (ServerOutcome(.authFailed, detail: "NOAUTH Authentication required."),
             "redis://:***@10.0.0.3:6379/99: authentication failed (NOAUTH Authentication required.; the server wants a password and none was given)"),
            (ServerOutcome(.authFailed, detail: "ERR DB index is out of range"),
             "redis://:***@10.0.0.3:6379/99: database 99 does not exist on this server (ERR DB index is out of range)"),
        ]
        for (outcome, expected) in cases {
            #expect(ServerReport(server: server, outcome: outcome).description == expected)
        }
    }

    @Test func lockDescriptionNeverContainsTheToken() {
        let token = LockToken.make()
        let lock = Lock(resource: "jobs:nightly", token: token, storedValue: token, ttl: .seconds(10), acquiredAt: .now, validUntil: .now + .seconds(10),
                        grantedBy: [Self.unusedServer], pins: [nil])
        #expect(token.count == 32)
        #expect(!lock.description.contains(token), "\(lock)")
        #expect(!String(reflecting: lock).contains(token))
    }

    @Test func errorsAboutALockNeverContainItsToken() async throws {
        let token = LockToken.make()
        let expired = Lock(resource: "jobs:nightly", token: token, storedValue: token, ttl: .seconds(10), acquiredAt: .now, validUntil: .now - .seconds(1),
                           grantedBy: [Self.unusedServer], pins: [nil])
        let zeroTTL = Lock(resource: "jobs:nightly", token: token, storedValue: token, ttl: .zero, acquiredAt: .now, validUntil: .now + .seconds(10),
                           grantedBy: [Self.unusedServer], pins: [nil])
        try await withClient(Self.configuration { $0.retryAttempts = 1 }) { client in
            let errors = [
                await expectRedLockError(.notHeld) { try await client.extend(expired) },
                await expectRedLockError(.invalidArgument) { try await client.extend(expired, ttl: .milliseconds(-5)) },
                await expectRedLockError(.invalidArgument) { try await client.release(zeroTTL) },
                await expectRedLockError(.noQuorum) { try await client.release(expired) },
            ]
            for error in errors.compactMap({ $0 }) {
                #expect(!error.description.contains(token), "\(error)")
                #expect(!error.message.contains(token))
                #expect(error.resource == "jobs:nightly")
            }
        }
    }
}
