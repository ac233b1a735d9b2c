/// A resource that fences its writes, as the README's "Fencing tokens" asks of one: keys on a
/// `redis-server` of its own (never one of the lock's masters) where, per resource, a write is
/// accepted only when its token is at least the highest accepted so far. The check and the record
/// are one script, so they are atomic. Every write, accepted or refused, is logged with its token
/// and writer, in the order the store saw them.
///
/// It is reached through the server's Unix socket, so a contender process can write to it too.
public struct FencedStore: Sendable {
    /// The store server's Unix socket.
    public let socketPath: String
    /// The server, when this process started it: kept alive as long as the store is.
    private let server: RedisServerProcess?

    /// The store on a server another process started (a contender writing to the test's store).
    public init(socketPath: String) {
        self.socketPath = socketPath
        server = nil
    }

    /// The store on `server`, which lives as long as this value.
    public init(server: RedisServerProcess) {
        socketPath = server.socketPath
        self.server = server
    }

    /// Starts a store server of its own (no persistence: the store lives for one test).
    public static func start() async throws -> FencedStore {
        FencedStore(server: try await RedisServerProcess.start(persistent: false))
    }

    /// One write as the store's log keeps it.
    public struct Write: Sendable, Hashable, CustomStringConvertible {
        public var accepted: Bool
        public var token: UInt64
        /// Who wrote (`task 3`, `process 1`, `cronlock 0 run 17`).
        public var writer: String

        public init(accepted: Bool, token: UInt64, writer: String) {
            self.accepted = accepted
            self.token = token
            self.writer = writer
        }

        public var description: String { "\(accepted ? "accepted" : "refused") \(token) from \(writer)" }
    }

    // KEYS: the highest accepted token, the log. ARGV: token, writer. Tokens stay below 2^53, so
    // Lua's doubles compare them exactly.
    private static let script = """
        local seen = tonumber(redis.call('get', KEYS[1]) or '-1')
        local accepted = tonumber(ARGV[1]) >= seen
        if accepted then redis.call('set', KEYS[1], ARGV[1]) end
        redis.call('rpush', KEYS[2], (accepted and 'accepted ' or 'refused ') .. ARGV[1] .. ' ' .. ARGV[2])
        return accepted and 1 or 0
        """

    /// Writes to `resource` with `token`; true when the store accepted the write.
    ///
    /// - Throws: `HarnessError` when the store does not answer (1 s timeout) or answers an error.
    public func write(_ resource: String, token: UInt64, writer: String) async throws -> Bool {
        let reply = try await RedisServerProcess.command(["EVAL", Self.script, "2", "store:\(resource)", "store:\(resource):log", String(token), writer],
                                                         unixSocket: socketPath)
        guard case .integer(let accepted) = reply else { throw HarnessError("the fenced store answered \(reply)") }
        return accepted == 1
    }

    /// Every write to `resource`, in the order the store saw them.
    public func writes(_ resource: String) async throws -> [Write] {
        guard case .array(let entries) = try await RedisServerProcess.command(["LRANGE", "store:\(resource):log", "0", "-1"], unixSocket: socketPath) else {
            return []
        }
        return try entries.map { entry in
            guard case .string(let text) = entry else { throw HarnessError("the fenced store's log holds \(entry)") }
            let fields = text.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let token = UInt64(fields[1]) else { throw HarnessError("the fenced store's log holds \"\(text)\"") }
            return Write(accepted: fields[0] == "accepted", token: token, writer: String(fields[2]))
        }
    }
}
