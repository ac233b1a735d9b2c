import RedisIO
/// The server-side commands of the algorithm: one acquire command and two token-checked scripts.
///
/// Scripts go out as `EVALSHA` with the SHA-1 of their text; a server that answers `NOSCRIPT`
/// (after a restart or `SCRIPT FLUSH`) is sent `EVAL` on the same connection, which also caches it.
enum LockScripts {
    /// Deletes the key only while it still holds the caller's token. Replies 1 when deleted, else 0.
    /// With a channel as `ARGV[2]`, a deletion is announced there (see `releaseChannel(for:)`) as
    /// "<SHA-1 of the released value> <clients listening>": the digest is the same on every server,
    /// so a waiter told by several servers counts one release once, and the count lets each waiting
    /// client decide whether to answer (`ReleaseWatches`). An ACL user that may not publish still
    /// releases (`pcall`): waiters then find the key free at their next retry.
    static let release = Script(
        "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) if ARGV[2] then local ok, counts = pcall(redis.call, 'pubsub', 'numsub', ARGV[2]) pcall(redis.call, 'publish', ARGV[2], redis.sha1hex(ARGV[1]) .. ' ' .. (ok and counts[2] or 0)) end return 1 else return 0 end",
        sha1: "d5907300f58b639a2db580f6a178a79851906e98")

    /// The pub/sub channel on which releases of `key` are announced to waiting contenders.
    static func releaseChannel(for key: String) -> String {
        "redlock:released:" + key
    }

    /// Resets the TTL only while the key still holds the caller's token; never re-creates an expired
    /// key. Replies 1 when extended, else 0.
    static let extend = Script(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
        sha1: "9136fcf51831e5cf49f109b6e9c97d5b675280d6")

    /// The acquire for servers older than Redis 7.0, which reject `SET … NX GET`: same reply shape
    /// (nil when taken, the holder's token when held).
    static let acquireForOldServers = Script(
        "local current = redis.call('get', KEYS[1]) if current then return current end redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]) return false",
        sha1: "19859af637897e23a7d5ba3976568f8ef39bdaf1")

    /// `SET key token NX PX ttl GET`: replies nil when the key was free and is now ours, or the current
    /// holder's token (so a failed round can tell a majority holder from a split vote).
    static func acquire(key: String, value: String, ttlMilliseconds: Int64) -> RedisCommand {
        let ttl = String(ttlMilliseconds)
        let fallback = RedisCommand.Fallback(
            errorPrefix: "ERR syntax error",
            encode: { acquireForOldServers.evalCommand(keys: [key], arguments: [value, ttl]).bytes },
            allowedAfterDecision: false)
        return RedisCommand(["SET", key, value, "NX", "PX", ttl, "GET"], fallback: fallback)
    }

    /// Where a resource's fence lives on each master: beside the lock key, with no TTL, so that
    /// no `volatile-*` eviction policy removes it (see the README's Fencing).
    static func fenceKey(for resource: String) -> String {
        resource + ":redlock.fence"
    }

    /// Wraps an acquire script (`KEYS[1]` = lock, `ARGV[1]` = value, `ARGV[2]` = TTL ms, replies
    /// nil when granted, the holder when held, or a table) so that it also keeps the fence. The
    /// wrapped script takes the fence key as its last key and the proposal (a decimal below 2^53)
    /// as its last argument, and hides both from `body`. It grants only if `body` does and the
    /// proposal is above the fence, then stores the proposal as the fence. Replies: nil (granted),
    /// `{"held", holder, fence}`, `{"fence", fence}` (the key is free but the proposal is not above
    /// the fence: nothing was written), or `body`'s own table (e.g. `{"refused", reason}`).
    static func fenced(_ body: String) -> String {
        "local fence_key, proposal = KEYS[#KEYS], ARGV[#ARGV] "
            + "local KEYS, ARGV = {unpack(KEYS, 1, #KEYS - 1)}, {unpack(ARGV, 1, #ARGV - 1)} "
            + "local fence = redis.call('get', fence_key) or '0' "
            + "if redis.call('exists', KEYS[1]) == 0 and tonumber(proposal) <= tonumber(fence) then return {'fence', fence} end "
            + "local reply = (function() " + body + "\n end)() "
            + "if not reply then redis.call('set', fence_key, proposal) return false end "
            + "if type(reply) == 'string' then return {'held', reply, fence} end return reply"
    }

    /// The fenced acquire (see `fenced(_:)`): `acquireForOldServers` with the fence kept.
    static let fencedAcquire = Script(fenced(acquireForOldServers.source), sha1: "b5c9ebc8f76db1646fa6961dc71491dd4238e121")

    /// The acquire with fencing on: one `EVALSHA` (`EVAL` after `NOSCRIPT`, only while the round
    /// is undecided) that takes the lock and raises the fence to `proposal`.
    static func fencedAcquire(key: String, value: String, ttlMilliseconds: Int64, proposal: UInt64) -> RedisCommand {
        fencedAcquire.command(keys: [key, fenceKey(for: key)], arguments: [value, String(ttlMilliseconds), String(proposal)],
                              fallbackAfterDecision: false)
    }

    /// Reads a key's value and remaining TTL in one command, for `inspect`: `{value or nil, pttl}`.
    static let inspect = Script(
        "return {redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}",
        sha1: "756d3a49bbdb0067d28ddc35374118da8c43522e")

    struct Script: Sendable {
        let source: String
        let sha1: String

        init(_ source: String, sha1: String) {
            self.source = source
            self.sha1 = sha1
        }

        /// `EVALSHA`, falling back to `EVAL` on `NOSCRIPT` (for a command that takes a key, only
        /// while its round is undecided: `fallbackAfterDecision` false).
        func command(keys: [String], arguments: [String], fallbackAfterDecision: Bool = true) -> RedisCommand {
            let tail = [String(keys.count)] + keys + arguments
            let fallback = RedisCommand.Fallback(
                errorPrefix: "NOSCRIPT", encode: { [self] in evalCommand(keys: keys, arguments: arguments).bytes },
                allowedAfterDecision: fallbackAfterDecision)
            return RedisCommand(["EVALSHA", sha1] + tail, fallback: fallback)
        }

        fileprivate func evalCommand(keys: [String], arguments: [String]) -> RedisCommand {
            RedisCommand(["EVAL", source, String(keys.count)] + keys + arguments)
        }
    }
}
