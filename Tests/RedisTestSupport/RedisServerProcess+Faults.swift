import CHiredis
import Foundation

/// Control commands for fault injection: with a password the server was given at run time
/// (`CONFIG SET requirepass`), and with a reply timeout long enough for `DEBUG SLEEP`.
extension RedisServerProcess {
    /// Runs one command on a fresh connection, authenticating with `password` first when given,
    /// and waits up to `timeout` for the reply (off the cooperative pool).
    @discardableResult
    public func command(_ arguments: [String], password: String?, timeout: Duration = .seconds(1)) async throws -> Reply {
        let port = self.port
        return try await offload { try Self.runOnce(port: port, password: password, timeout: timeout, arguments) }
    }

    /// `DEBUG SLEEP seconds`: the server stops answering everyone for that long. Returns when the
    /// sleep is over.
    public func debugSleep(_ duration: Duration, password: String? = nil) async throws {
        let seconds = Double(duration.nanosecondsRoundedDown) / 1e9
        try await command(["DEBUG", "SLEEP", String(format: "%.3f", seconds)], password: password,
                          timeout: duration + .seconds(2))
    }

    /// A field of `INFO` (e.g. `used_memory`), as text.
    public func info(_ field: String, password: String? = nil) async throws -> String? {
        guard case .string(let text) = try await command(["INFO"], password: password) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(field + ":") {
            return String(line.dropFirst(field.count + 1))
        }
        return nil
    }

    private static func runOnce(port: Int, password: String?, timeout: Duration, _ arguments: [String]) throws -> Reply {
        let microseconds = timeout.nanosecondsRoundedDown / 1000
        let time = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
        guard let context = redisConnectWithTimeout("127.0.0.1", Int32(port), time) else { throw HarnessError("out of memory") }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { throw HarnessError(String(cString: chiredis_errstr(context))) }
        redisSetTimeout(context, time)
        if let password {
            if case .error(let line) = try send(context, ["AUTH", password]) { throw HarnessError("AUTH failed: \(line)") }
        }
        return try send(context, arguments)
    }

    private static func send(_ context: UnsafeMutablePointer<redisContext>, _ arguments: [String]) throws -> Reply {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer($0) }
        var lengths = arguments.map { $0.utf8.count }
        guard let raw = redisCommandArgv(context, Int32(arguments.count), &pointers, &lengths) else {
            throw HarnessError(String(cString: chiredis_errstr(context)))
        }
        defer { freeReplyObject(raw) }
        return Reply(raw.assumingMemoryBound(to: redisReply.self))
    }
}
