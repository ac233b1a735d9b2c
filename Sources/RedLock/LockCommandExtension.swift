import RedisIO
/// Server-side work that rides with the lock's own commands, for tools built on the library
/// (cronlock's job control: pause checks, run history, events). Not public API.
///
/// An extension replaces the acquire command and the end-of-lock script with Lua scripts of its
/// own, so its reads and writes cost no extra round trip. Its scripts must keep the token checks
/// and reply shapes described below; extensions of the lock (renewals) stay the library's own.
package protocol LockCommandExtension: Sendable {
    /// Runs instead of `SET key value NX PX ttl GET`, with `KEYS[1]` = the lock's key,
    /// `ARGV[1]` = the value to store, `ARGV[2]` = the TTL in milliseconds, then the script's own
    /// keys and arguments. Replies nil when it set the key, the holder's value (a bulk string) when
    /// the key is held, or `{"refused", reason}` to refuse the lock whoever holds it. With fencing
    /// on, the library wraps it to keep the fence (`fencingToken`: the round's proposal, which is
    /// the lock's token if the round wins), invisibly to the script's `KEYS` and `ARGV`.
    func acquireScript(fencingToken: UInt64?) -> ExtensionScript

    /// Runs instead of the token-checked release, with `KEYS[1]` = the lock's key, `ARGV[1]` = our
    /// stored value, `ARGV[2]` = milliseconds to keep the key (0: delete it), `ARGV[3]` = "1" at the
    /// end of a lock that was acquired, "0" when cleaning up after a failed acquisition round, then
    /// the script's own keys and arguments. Replies 1 when the key held our value, else 0, and
    /// never touches a key that holds another value. Its releases are not announced to waiters
    /// (`notifiesWaitersOnRelease`): they find the key free at their next retry.
    func releaseScript(acquired: Bool) -> ExtensionScript
}

/// A Lua script with the keys and arguments it takes after the lock's own.
package struct ExtensionScript: Sendable {
    /// The Lua source, sent with `EVAL` (Redis caches it by digest).
    package var source: String
    /// Keys after `KEYS[1]`.
    package var keys: [String]
    /// Arguments after the step's own `ARGV`.
    package var arguments: [String]

    package init(source: String, keys: [String], arguments: [String]) {
        self.source = source
        self.keys = keys
        self.arguments = arguments
    }

    /// `EVAL` with the lock's key and the step's arguments in front of the script's own; with a
    /// fencing proposal, the script wrapped to keep the fence (see `LockScripts.fenced(_:)`).
    func command(lockKey: String, stepArguments: [String], fencingProposal: UInt64? = nil) -> RedisCommand {
        guard let fencingProposal else {
            return RedisCommand(["EVAL", source, String(1 + keys.count), lockKey] + keys + stepArguments + arguments)
        }
        return RedisCommand(["EVAL", LockScripts.fenced(source), String(2 + keys.count), lockKey] + keys + [LockScripts.fenceKey(for: lockKey)]
                            + stepArguments + arguments + [String(fencingProposal)])
    }
}
