import RedLock
import Testing

/// `RedisServerAddress(parsing:)`: every accepted form, and a precise reason for every rejection.
/// No server involved.
@Suite("Server address parsing")
struct ServerAddressTests {
    // MARK: Accepted forms

    /// An address string and what it must parse to.
    struct Accepted: Sendable, CustomTestStringConvertible {
        let text: String
        let endpoint: RedisServerAddress.Endpoint
        var username: String? = nil
        var password: String? = nil
        var database = 0
        var usesTLS = false

        var testDescription: String { text }
    }

    static let accepted: [Accepted] = [
        Accepted(text: "redis://cache.example.com", endpoint: .tcp(host: "cache.example.com", port: 6379)),
        Accepted(text: "redis://127.0.0.1", endpoint: .tcp(host: "127.0.0.1", port: 6379)),
        Accepted(text: "redis://cache.example.com/", endpoint: .tcp(host: "cache.example.com", port: 6379)),
        Accepted(text: "redis://cache.example.com:6380/5", endpoint: .tcp(host: "cache.example.com", port: 6380), database: 5),
        Accepted(text: "redis://10.0.0.1:1/0", endpoint: .tcp(host: "10.0.0.1", port: 1)),
        Accepted(text: "redis://10.0.0.1:65535", endpoint: .tcp(host: "10.0.0.1", port: 65535)),
        Accepted(text: "redis://alice:s3cret@redis-1.internal:7000/2", endpoint: .tcp(host: "redis-1.internal", port: 7000),
                 username: "alice", password: "s3cret", database: 2),
        Accepted(text: "redis://:s3cret@redis-1.internal", endpoint: .tcp(host: "redis-1.internal", port: 6379), password: "s3cret"),
        Accepted(text: "redis://alice@redis-1.internal", endpoint: .tcp(host: "redis-1.internal", port: 6379), username: "alice"),
        Accepted(text: "redis://alice%40corp:p%40ss%3Aw%2Fd%25@redis-1.internal:6380", endpoint: .tcp(host: "redis-1.internal", port: 6380),
                 username: "alice@corp", password: "p@ss:w/d%"),
        Accepted(text: "redis://:%C3%A9t%C3%A9@host", endpoint: .tcp(host: "host", port: 6379), password: "été"),
        Accepted(text: "rediss://cache.example.com", endpoint: .tcp(host: "cache.example.com", port: 6379), usesTLS: true),
        Accepted(text: "REDISS://alice:s3cret@10.0.0.1:6380/2", endpoint: .tcp(host: "10.0.0.1", port: 6380),
                 username: "alice", password: "s3cret", database: 2, usesTLS: true),
        Accepted(text: "rediss://[::1]:6390", endpoint: .tcp(host: "::1", port: 6390), usesTLS: true),
        Accepted(text: "[::1]:6380", endpoint: .tcp(host: "::1", port: 6380)),
        Accepted(text: "[::1]", endpoint: .tcp(host: "::1", port: 6379)),
        Accepted(text: "redis://[::1]:6380/3", endpoint: .tcp(host: "::1", port: 6380), database: 3),
        Accepted(text: "redis://[2001:db8::7]", endpoint: .tcp(host: "2001:db8::7", port: 6379)),
        Accepted(text: "redis://u:p@[fe80::1]:7001/4", endpoint: .tcp(host: "fe80::1", port: 7001), username: "u", password: "p", database: 4),
        Accepted(text: "10.0.0.7:6380", endpoint: .tcp(host: "10.0.0.7", port: 6380)),
        Accepted(text: "redis_1.svc:7000", endpoint: .tcp(host: "redis_1.svc", port: 7000)),
        Accepted(text: "localhost", endpoint: .tcp(host: "localhost", port: 6379)),
        Accepted(text: "unix:///var/run/redis/redis.sock", endpoint: .unix(path: "/var/run/redis/redis.sock")),
        Accepted(text: "unix://:pw@/tmp/redis.sock?db=2", endpoint: .unix(path: "/tmp/redis.sock"), password: "pw", database: 2),
        Accepted(text: "unix://alice:pw@/tmp/redis.sock", endpoint: .unix(path: "/tmp/redis.sock"), username: "alice", password: "pw"),
        Accepted(text: "unix:///tmp/redis.sock?db=0", endpoint: .unix(path: "/tmp/redis.sock")),
    ]

    @Test("accepted address", arguments: accepted)
    func acceptedAddressParsesIntoItsParts(_ example: Accepted) throws {
        let address = try RedisServerAddress(parsing: example.text)
        #expect(address.endpoint == example.endpoint)
        #expect(address.username == example.username)
        #expect(address.password == example.password)
        #expect(address.database == example.database)
        #expect(address.usesTLS == example.usesTLS)
    }

    @Test("the parsed description parses back to the same address", arguments: accepted)
    func descriptionOfAnAddressWithoutPasswordRoundTrips(_ example: Accepted) throws {
        var address = try RedisServerAddress(parsing: example.text)
        address.password = nil
        #expect(try RedisServerAddress(parsing: address.description) == address)
    }

    @Test func addressFromPartsEqualsTheParsedOne() throws {
        let parsed = try RedisServerAddress(parsing: "redis://alice:pw@10.0.0.1:6380/2")
        let built = RedisServerAddress(endpoint: .tcp(host: "10.0.0.1", port: 6380), username: "alice", password: "pw", database: 2)
        #expect(parsed == built)
        #expect(RedisServerAddress.defaultPort == 6379)
    }

    @Test func addressOfExactlyTheMaximumLengthIsAccepted() throws {
        let host = String(repeating: "a", count: 200)
        let path = "/" + String(repeating: "p", count: RedisServerAddress.maximumLength - "unix://".utf8.count - 1)
        let text = "unix://" + path
        #expect(text.utf8.count == RedisServerAddress.maximumLength)
        #expect(try RedisServerAddress(parsing: text).endpoint == .unix(path: path))
        #expect(try RedisServerAddress(parsing: host).endpoint == .tcp(host: host, port: 6379))
    }

    // MARK: Rejections

    /// An address string that must be rejected, and a fragment its error message must contain.
    struct Rejected: Sendable, CustomTestStringConvertible {
        let label: String
        let text: String
        let says: String

        init(_ text: String, says: String, label: String? = nil) {
            self.text = text
            self.says = says
            self.label = label ?? text
        }

        var testDescription: String { label }
    }

    static let rejected: [Rejected] = [
        Rejected("", says: "empty", label: "empty string"),
        Rejected("redis://host:0", says: "port"),
        Rejected("redis://host:65536", says: "port"),
        Rejected("redis://host:99999999999999999999999", says: "port"),
        Rejected("host:abc", says: "port"),
        Rejected("host:", says: "port"),
        Rejected("redis://host:/1", says: "port"),
        Rejected("host:+6379", says: "port"),
        Rejected("host:-1", says: "port"),
        Rejected("[::1]:0", says: "port"),
        Rejected("::1", says: "IPv6"),
        Rejected("2001:db8::1:6379", says: "IPv6"),
        Rejected("redis://fe80::1/2", says: "IPv6"),
        Rejected("[::1:6379", says: "IPv6"),
        Rejected("redis://[::1", says: "IPv6"),
        Rejected("redis://[]:6379", says: "IPv6"),
        Rejected("redis://[10.0.0.1]", says: "IPv6"),
        Rejected("[::1]6379", says: "after ']'"),
        Rejected("redis://", says: "host"),
        Rejected("redis://user@", says: "host"),
        Rejected("redis://user:pw@/2", says: "host"),
        Rejected("redis://:6379", says: "host"),
        Rejected(":6379", says: "host"),
        Rejected("redis://@host", says: "user information"),
        Rejected("redis://héllo.example", says: "host name"),
        Rejected("redis://host!:6379", says: "host name"),
        Rejected("redis://" + String(repeating: "a", count: 254), says: "253", label: "254-byte host name"),
        Rejected("redis://" + String(repeating: "a", count: 10_000), says: "longer than 4096", label: "10 kB address"),
        Rejected("redis://host\n", says: "control", label: "trailing newline"),
        Rejected("redis://ho\0st", says: "control", label: "NUL"),
        Rejected("redis://host\r\nSET x y", says: "control", label: "CR LF injection"),
        Rejected("\thost:6379", says: "control", label: "tab"),
        Rejected("redis://host\u{7F}", says: "control", label: "DEL"),
        Rejected("redis://host\u{85}", says: "control", label: "NEL (C1 control)"),
        Rejected("redis://my host", says: "spaces"),
        Rejected(" host:6379", says: "spaces", label: "leading space"),
        Rejected("host:6379 ", says: "spaces", label: "trailing space"),
        Rejected("rediss://host:6380?db=1", says: "query"),
        Rejected("rediss://:6380", says: "host"),
        Rejected("http://host:6379", says: "scheme"),
        Rejected("tcp://host:6379", says: "scheme"),
        Rejected("redis://host?db=2", says: "query"),
        Rejected("redis://host#frag", says: "fragments"),
        Rejected("redis://host/abc", says: "database"),
        Rejected("redis://host/-1", says: "database"),
        Rejected("redis://host/1/2", says: "database"),
        Rejected("redis://host/99999999999", says: "database"),
        Rejected("unix://tmp/redis.sock", says: "absolute"),
        Rejected("unix://", says: "absolute"),
        Rejected("unix:///", says: "absolute"),
        Rejected("unix:///tmp/redis.sock?database=2", says: "db=N"),
        Rejected("unix:///tmp/redis.sock?db=two", says: "database"),
        Rejected("redis://us%zzer@host", says: "two hex digits"),
        Rejected("redis://:pw%4@host", says: "two hex digits"),
        Rejected("redis://:pw%@host", says: "two hex digits"),
        Rejected("redis://:%+F@host", says: "two hex digits"),
        Rejected("redis://:%-0@host", says: "two hex digits"),
        Rejected("redis://:%FF%FE@host", says: "UTF-8", label: "percent escapes that are not UTF-8"),
    ]

    @Test("rejected address", arguments: rejected)
    func rejectedAddressSaysWhatIsWrong(_ example: Rejected) async {
        let error = await expectRedLockError(.invalidConfiguration) { try RedisServerAddress(parsing: example.text) }
        guard let error else { return }
        #expect(error.message.contains(example.says), "\(error.message)")
        #expect(error.message.hasPrefix("invalid server address"), "\(error.message)")
        #expect(error.message.utf8.count < 600, "the message must not echo a huge address")
        #expect(!error.message.unicodeScalars.contains { $0.properties.generalCategory == .control },
                "the message must not carry control characters into logs")
    }

    // MARK: Passwords stay out of text

    static let password = "Hunter2-Pa55"

    static let addressesWithPassword: [String] = [
        "redis://:\(password)@host",
        "redis://alice:\(password)@host:6380/2",
        "redis://alice:\(password)@[::1]:6380",
        "unix://:\(password)@/tmp/redis.sock",
        "unix://alice:\(password)@/tmp/redis.sock?db=3",
    ]

    @Test("description hides the password", arguments: addressesWithPassword)
    func descriptionNeverContainsThePassword(_ text: String) throws {
        let address = try RedisServerAddress(parsing: text)
        #expect(address.password == Self.password)
        #expect(!address.description.contains(Self.password), "\(address)")
        #expect(!"\(address)".contains(Self.password))
        #expect(!String(reflecting: address).contains(Self.password))
        #expect(address.description.contains(":***@"), "\(address)")
    }

    @Test func descriptionHidesPercentEncodedPasswordsAndShowsTheRest() throws {
        let address = try RedisServerAddress(parsing: "redis://al%20ice:p%40ss%2Fword@host:6380/2")
        #expect(address.password == "p@ss/word")
        #expect(address.description == "redis://al%20ice:***@host:6380/2")
        let unix = RedisServerAddress(endpoint: .unix(path: "/tmp/r.sock"), password: "p@ss/word", database: 4)
        #expect(unix.description == "unix://:***@/tmp/r.sock?db=4")
        let ipv6 = RedisServerAddress(endpoint: .tcp(host: "::1", port: 7000), username: "bob", password: "pw")
        #expect(ipv6.description == "redis://bob:***@[::1]:7000")
    }

    static let invalidAddressesWithPassword: [Rejected] = [
        Rejected("redis://alice:\(password)@host:0", says: "port"),
        Rejected("redis://:\(password)@", says: "host"),
        Rejected("redis://:\(password)@::1", says: "IPv6"),
        Rejected("redis://:\(password)@[::1", says: "IPv6"),
        Rejected("redis://:\(password)@host?db=1", says: "query"),
        Rejected("redis://:\(password)@host/abc", says: "database"),
        Rejected("redis://:\(password)@bad!host", says: "host name"),
        Rejected("redis://:\(password)@my host", says: "spaces"),
        Rejected("redis://:\(password)@host\n", says: "control", label: "redis://:…@host + newline"),
        Rejected("redis://:\(password)%zz@host", says: "two hex digits"),
        Rejected("redis://a:b:\(password)@host:0", says: "port"),
        Rejected("rediss://alice:\(password)@host:99999", says: "port"),
        Rejected("http://alice:\(password)@host", says: "scheme"),
        Rejected("unix://:\(password)@tmp/redis.sock", says: "absolute"),
        Rejected("unix://:\(password)@/tmp/redis.sock?db=x", says: "database"),
        Rejected("alice:\(password)@host:6379", says: "IPv6", label: "user:password@host:port without a scheme"),
        Rejected(":\(password)@host", says: "host", label: ":password@host without a scheme"),
        Rejected("redis://:" + String(repeating: password, count: 30) + "@host:0", says: "port",
                 label: "360-byte password, bad port"),
        Rejected("redis://:" + String(repeating: password, count: 400) + "@host", says: "4096",
                 label: "4.8 kB password"),
    ]

    @Test("an invalid address's error hides its password", arguments: invalidAddressesWithPassword)
    func errorMessageNeverContainsThePassword(_ example: Rejected) async {
        let error = await expectRedLockError(.invalidConfiguration) { try RedisServerAddress(parsing: example.text) }
        guard let error else { return }
        #expect(error.message.contains(example.says), "\(error.message)")
        // Any 6 consecutive characters of the password would be a leak, not just all of it.
        let fragment = String(Self.password.prefix(6))
        #expect(!error.message.contains(fragment), "\(error.message)")
        #expect(!error.description.contains(fragment), "\(error.description)")
    }

    @Test func configurationFromStringsNamesTheFirstBadAddressWithoutItsPassword() async {
        let error = await expectRedLockError(.invalidConfiguration) {
            try RedLockConfiguration(serverAddresses: ["redis://a:6379", "redis://:\(Self.password)@b:70000", "redis://c:bad"])
        }
        #expect(error?.message.contains("70000") == true, "\(String(describing: error))")
        #expect(error?.message.contains("redis://c") == false)
        #expect(error?.message.contains(Self.password) == false)
    }
}

@Test("URL schemes match case-insensitively")
func schemesAreCaseInsensitive() throws {
    #expect(try RedisServerAddress(parsing: "REDIS://Host:6380").endpoint == .tcp(host: "Host", port: 6380))
    #expect(try RedisServerAddress(parsing: "Unix:///run/redis.sock").endpoint == .unix(path: "/run/redis.sock"))
}
