import CHiredis
import Foundation

/// The round-trip floor, written as plainly as hiredis allows: one blocking context per server,
/// a command appended to every context, every output buffer flushed, then every reply read. No
/// threads, no Swift concurrency: what any lock built on these servers cannot beat.
public final class HiredisFloor: FloorConnections {
    /// The floor's release: a token-checked delete. The library's release script is this plus the
    /// notice to waiters (`PUBSUB NUMSUB` and `PUBLISH`, which cost nothing when nobody listens).
    public static let releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
    /// Its SHA-1, for `EVALSHA` once `loadReleaseScript()` has run.
    public static let releaseScriptSHA1 = "e9f69f2beb755be68b5e456ee2ce9aadfbc4ebf4"

    private var contexts: [UnsafeMutablePointer<redisContext>] = []

    public init(ports: [Int]) throws {
        for port in ports {
            guard let context = redisConnect("127.0.0.1", Int32(port)), context.pointee.err == 0 else {
                throw HarnessError("floor: cannot connect to 127.0.0.1:\(port)")
            }
            contexts.append(context)
        }
    }

    deinit {
        contexts.forEach { redisFree($0) }
    }

    public var serverCount: Int { contexts.count }

    public func round(_ arguments: [String], servers: Int) throws {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer($0) }
        var lengths = arguments.map { $0.utf8.count }
        for context in contexts.prefix(servers) {
            redisAppendCommandArgv(context, Int32(arguments.count), &pointers, &lengths)
        }
        for context in contexts.prefix(servers) {
            var done: Int32 = 0
            while done == 0 {
                guard redisBufferWrite(context, &done) == REDIS_OK else { throw HarnessError("floor: write failed") }
            }
        }
        for context in contexts.prefix(servers) {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw HarnessError("floor: read failed") }
            freeReplyObject(reply)
        }
    }
}
