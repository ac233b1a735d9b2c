import CHiredis
import Foundation
@testable import RedLock
import RedisTestSupport
import Testing
import TestLoad
import RedisIO

/// Seeded, mutation-based property tests (issue 6) for the two places where outside bytes enter
/// the library: server addresses (`RedisServerAddress(parsing:)`) and replies (hiredis' reader and
/// the conversion to `RedisReply`, the path `RedisConnection.readReplies` takes).
///
/// Each test runs `REDLOCK_FUZZ_ITERATIONS` inputs (default: a few seconds' worth, for CI) from
/// `REDLOCK_FUZZ_SEED` (default fixed, so a failure replays); a failure names the seed and the input.
/// The long run: `REDLOCK_FUZZ_ITERATIONS=1000000 swift test --filter Fuzz`.
@Suite("Fuzzing: addresses and replies", .load(.heavy))
struct FuzzTests {
    @Test func addressParserKeepsItsPromisesOnMutatedAddresses() async {
        var random = SeededGenerator(seed: FuzzSettings.seed)
        let mutator = Mutator(seeds: AddressProperties.seeds.map { Array($0.utf8) }, dictionary: AddressProperties.dictionary)
        var accepted = 0
        for iteration in 0..<FuzzSettings.iterations(default: 30_000) {
            await FuzzSettings.yieldOccasionally(iteration)
            let text = String(decoding: mutator.mutate(using: &random), as: UTF8.self)
            if let problem = AddressProperties.check(text, accepted: &accepted) {
                Issue.record("seed \(FuzzSettings.seed), iteration \(iteration), input \(text.debugDescription): \(problem)")
                return
            }
        }
        #expect(accepted > 0, "the mutations never produced a valid address: the generator is broken")
    }

    @Test func replyReaderSurvivesMutatedReplies() async {
        var random = SeededGenerator(seed: FuzzSettings.seed &+ 1)
        let mutator = Mutator(seeds: ReplyProperties.seeds.map { Array($0.utf8) }, dictionary: ReplyProperties.dictionary)
        var complete = 0
        for iteration in 0..<FuzzSettings.iterations(default: 100_000) {
            await FuzzSettings.yieldOccasionally(iteration)
            let bytes = mutator.mutate(using: &random)
            let whole = ReplyReader.read(bytes, chunks: [bytes.count])
            let pieces = ReplyReader.read(bytes, chunks: ReplyReader.randomCuts(of: bytes.count, using: &random))
            complete += whole.replies.count
            guard whole == pieces else {
                Issue.record("seed \(FuzzSettings.seed), iteration \(iteration), input \(ReplyReader.show(bytes)): read whole \(whole), in pieces \(pieces)")
                return
            }
        }
        #expect(complete > 0, "no mutated input was a complete reply: the generator is broken")
    }

    @Test func everyWellFormedReplyReadsBackAsItWasWritten() async {
        var random = SeededGenerator(seed: FuzzSettings.seed &+ 2)
        for iteration in 0..<FuzzSettings.iterations(default: 60_000) {
            await FuzzSettings.yieldOccasionally(iteration)
            let reply = ReplyProperties.randomReply(depth: 0, using: &random)
            let bytes = ReplyProperties.encode(reply)
            let read = ReplyReader.read(bytes, chunks: ReplyReader.randomCuts(of: bytes.count, using: &random))
            guard read == ReplyReader.Reading(replies: [reply], error: nil) else {
                Issue.record("seed \(FuzzSettings.seed), iteration \(iteration), input \(ReplyReader.show(bytes)): read \(read)")
                return
            }
        }
    }

    /// The whole path, socket included: a client against a listener that answers with mutated
    /// replies must return within its deadline, whatever it makes of them.
    @Test(needsRedis) func clientReturnsOnTimeFromAListenerSendingMutatedReplies() async throws {
        var random = SeededGenerator(seed: FuzzSettings.seed &+ 3)
        let mutator = Mutator(seeds: ReplyProperties.seeds.map { Array($0.utf8) }, dictionary: ReplyProperties.dictionary)
        for iteration in 0..<max(1, FuzzSettings.iterations(default: 60_000) / 2_000) {
            let reply = String(decoding: mutator.mutate(using: &random), as: UTF8.self)
            let listener = try GarbageServer(reply: reply)
            var configuration = try RedLockConfiguration(serverAddresses: [listener.url])
            configuration.tuning.serverTimeout = .milliseconds(100)
            configuration.tuning.retryAttempts = 2
            configuration.tuning.retryDelay = .milliseconds(5)
            let client = try RedLockClient(configuration: configuration)
            let result = await expectReturns(within: Duration.seconds(3).scaled) {
                try await client.acquire("fuzz", ttl: .seconds(2))
            }
            await client.shutdown()
            if result == nil {
                Issue.record("seed \(FuzzSettings.seed), iteration \(iteration), reply \(reply.debugDescription): acquire hung")
                return
            }
            _ = listener
        }
    }
}


// MARK: - Addresses

/// What `RedisServerAddress(parsing:)` promises for any text.
enum AddressProperties {
    static let secret = "s3cretPW"

    static let seeds = [
        "redis://127.0.0.1:6379", "redis://user:\(secret)@redis-a.example:6380/2", "redis://:\(secret)@[::1]:6379/0",
        "10.0.0.6:6380", "[fd00::7]:6380", "localhost", "unix:///run/redis/redis.sock", "unix://:\(secret)@/run/redis.sock?db=1",
        "REDIS://Host-B:1/15", "redis://locker:p%40ss%3A\(secret)@h:7000", "rediss://secure:6380", "redis://h:6379?db=1",
    ]

    static let dictionary = [
        "redis://", "unix://", "rediss://", "://", "@", ":", "[", "]", "/", "?db=", "%", "%41", "%ff", "::1", ":0", ":65535",
        ":65536", ":-1", "\0", "\n", "\r\n", " ", "\u{1B}", "é", "😀", "\u{2028}", String(repeating: "a", count: 300),
        String(repeating: "9", count: 30), secret,
    ]

    /// The first promise `text` breaks, or nil. Counts accepted inputs in `accepted`.
    static func check(_ text: String, accepted: inout Int) -> String? {
        do {
            let address = try RedisServerAddress(parsing: text)
            accepted += 1
            return checkAccepted(address)
        } catch {
            return checkRejected(text, error)
        }
    }

    private static func checkAccepted(_ address: RedisServerAddress) -> String? {
        guard (0...Int(Int32.max)).contains(address.database) else { return "database \(address.database) out of range" }
        if case .tcp(let host, let port) = address.endpoint {
            guard (1...65_535).contains(port) else { return "port \(port) accepted" }
            guard !host.isEmpty, host.utf8.count <= 253 || host.contains(":") else { return "host \(host.debugDescription) accepted" }
        }
        if case .unix(let path) = address.endpoint, !path.hasPrefix("/") { return "relative socket path accepted" }
        if let password = address.password {
            guard address.description.contains(":***@"), !address.description.contains(":\(password)@") else {
                return "description \(address.description) shows the password"
            }
        }
        // The description is itself an address that means the same server (password hidden as ***).
        guard let again = try? RedisServerAddress(parsing: address.description) else {
            return "description \(address.description.debugDescription) does not parse"
        }
        guard again.endpoint == address.endpoint, again.username == address.username, again.database == address.database,
              again.password == address.password.map({ _ in "***" }) else {
            return "description \(address.description.debugDescription) parses to \(again)"
        }
        return nil
    }

    private static func checkRejected(_ text: String, _ error: RedLockError) -> String? {
        guard error.code == .invalidConfiguration else { return "code \(error.code)" }
        let message = error.description
        guard message.contains("invalid server address") else { return "message \(message.debugDescription) does not say what was wrong" }
        if message.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "message \(message.debugDescription) carries control characters"
        }
        if passwordPosition(in: text), message.contains(secret) { return "message \(message.debugDescription) shows the password" }
        return nil
    }

    /// True when every occurrence of the secret sits in the password part of the user
    /// information: after the first `:` that follows `redis://` or `unix://`, before the last `@`.
    private static func passwordPosition(in text: String) -> Bool {
        guard let scheme = text.range(of: "redis://") ?? text.range(of: "unix://"), let at = text.lastIndex(of: "@"),
              scheme.upperBound <= at, let colon = text[scheme.upperBound..<at].firstIndex(of: ":") else { return false }
        var searchFrom = text.startIndex
        var found = false
        while let range = text.range(of: secret, range: searchFrom..<text.endIndex) {
            guard range.lowerBound > colon, range.upperBound <= at else { return false }
            found = true
            searchFrom = range.upperBound
        }
        guard found else { return false }
        // A second "://" before the secret makes the scheme ambiguous; the redaction keys on the first.
        return text[text.startIndex..<scheme.lowerBound].range(of: "://") == nil
    }
}

// MARK: - Replies

/// Feeds bytes to a hiredis reader (as `RedisConnection` does with what the socket delivers) and
/// converts every complete reply to `RedisReply`.
enum ReplyReader {
    /// Everything one input produced: the complete replies, then the reader's error if it failed.
    struct Reading: Equatable, CustomStringConvertible {
        var replies: [RedisReply]
        var error: String?
        var description: String { "\(replies)" + (error.map { " then error \($0.debugDescription)" } ?? "") }
    }

    /// Reads `bytes`, fed in pieces of the given sizes (the last piece takes what is left).
    static func read(_ bytes: [UInt8], chunks: [Int]) -> Reading {
        guard let reader = redisReaderCreate() else { return Reading(replies: [], error: "out of memory") }
        defer { redisReaderFree(reader) }
        var reading = Reading(replies: [], error: nil)
        var offset = 0
        for (index, size) in chunks.enumerated() {
            let end = index == chunks.count - 1 ? bytes.count : min(bytes.count, offset + size)
            let fed = bytes[offset..<end].withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
            }
            offset = end
            guard fed == REDIS_OK else { return failed(reader, reading) }
            while true {
                var raw: UnsafeMutableRawPointer?
                guard redisReaderGetReply(reader, &raw) == REDIS_OK else { return failed(reader, reading) }
                guard let raw else { break }
                reading.replies.append(RedisReply(raw.assumingMemoryBound(to: redisReply.self)))
                freeReplyObject(raw)
            }
        }
        return reading
    }

    private static func failed(_ reader: UnsafeMutablePointer<redisReader>, _ reading: Reading) -> Reading {
        var failed = reading
        failed.error = withUnsafeBytes(of: reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return failed
    }

    /// Random piece sizes adding up to `count` (at least one piece).
    static func randomCuts(of count: Int, using random: inout SeededGenerator) -> [Int] {
        var cuts: [Int] = []
        var left = count
        while left > 0 {
            let piece = Int.random(in: 1...max(1, min(left, 8)), using: &random)
            cuts.append(piece)
            left -= piece
        }
        return cuts.isEmpty ? [0] : cuts
    }

    /// The bytes as printable text, for failure messages.
    static func show(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).debugDescription
    }
}

/// Seeds, tokens and a generator of well-formed replies (RESP2, as hiredis 0.14 speaks it).
enum ReplyProperties {
    static let seeds = [
        "+OK\r\n", "-ERR unknown command 'FOO'\r\n", "-WRONGPASS invalid username-password pair\r\n", ":1\r\n", ":-42\r\n",
        "$-1\r\n", "$5\r\nhello\r\n", "$0\r\n\r\n", "*-1\r\n", "*0\r\n", "*2\r\n$5\r\ntoken\r\n:29000\r\n",
        "*3\r\n*1\r\n+a\r\n$-1\r\n:7\r\n", "+OK\r\n+OK\r\n$-1\r\n", "$32\r\n0123456789abcdef0123456789abcdef\r\n",
        "*2\r\n$7\r\nrefused\r\n$6\r\npaused\r\n",
    ]

    static let dictionary = [
        "\r\n", "\r", "\n", "+", "-", ":", "$", "*", "$-1\r\n", "*-1\r\n", "-1", "0", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "2147483648", "4294967296", "99999999999999999999", "*1\r\n", "*8\r\n", "$1\r\nx\r\n", "\0", "é",
        String(repeating: "*1\r\n", count: 9),
    ]

    static func randomReply(depth: Int, using random: inout SeededGenerator) -> RedisReply {
        switch Int.random(in: 0..<(depth < 3 ? 6 : 5), using: &random) {
        case 0: .status(randomLine(using: &random))
        case 1: .error(randomLine(using: &random))
        case 2: .integer(Int64.random(in: .min ... .max, using: &random))
        case 3: .bulk(randomText(allowingNewlines: true, using: &random))
        case 4: .null
        default: .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomReply(depth: depth + 1, using: &random) })
        }
    }

    /// Text for a status or error line: no CR or LF, and the type byte decides the kind, so any text.
    private static func randomLine(using random: inout SeededGenerator) -> String {
        randomText(allowingNewlines: false, using: &random)
    }

    private static func randomText(allowingNewlines: Bool, using random: inout SeededGenerator) -> String {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "$", "*", ":", "-", "+", "é", "😀", "\u{0}", "\r", "\n", "\u{7F}"]
        let scalars = (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            .filter { allowingNewlines || ($0 != "\r" && $0 != "\n") }
        return String(String.UnicodeScalarView(scalars))
    }

    /// RESP2 bytes for `reply`.
    static func encode(_ reply: RedisReply) -> [UInt8] {
        switch reply {
        case .status(let text): Array("+\(text)\r\n".utf8)
        case .error(let text): Array("-\(text)\r\n".utf8)
        case .integer(let value): Array(":\(value)\r\n".utf8)
        case .bulk(let text): Array("$\(text.utf8.count)\r\n".utf8) + Array(text.utf8) + [13, 10]
        case .null: Array("$-1\r\n".utf8)
        case .array(let items): Array("*\(items.count)\r\n".utf8) + items.flatMap(encode)
        }
    }
}
