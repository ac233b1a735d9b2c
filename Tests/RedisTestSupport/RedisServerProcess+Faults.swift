import CHiredis
import Foundation

/// Control commands for fault injection: with a password the server was given at run time
/// (`CONFIG SET requirepass`), and with a reply timeout long enough for `DEBUG SLEEP`.
extension RedisServerProcess {
    /// Runs one command on a fresh connection, authenticating with `password` first when given,
    /// and waits up to `timeout` for the reply (off the cooperative pool).
    @discardableResult
    public func command(_ arguments: [String], password: String?, timeout: Duration = .seconds(1)) async throws -> Reply {
        try await offload { try self.commandBlocking(arguments, password: .some(password), timeout: timeout) }
    }

    /// `DEBUG SLEEP seconds`: the server stops answering everyone for that long. Returns when the
    /// sleep is over.
    public func debugSleep(_ duration: Duration) async throws {
        let seconds = Double(duration.nanosecondsRoundedDown) / 1e9
        _ = try await offload { try self.commandBlocking(["DEBUG", "SLEEP", String(format: "%.3f", seconds)], timeout: duration + .seconds(2)) }
    }

    /// A field of `INFO` (e.g. `used_memory`), as text.
    public func info(_ field: String) async throws -> String? {
        guard case .string(let text) = try await command(["INFO"]) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(field + ":") {
            return String(line.dropFirst(field.count + 1))
        }
        return nil
    }
}
