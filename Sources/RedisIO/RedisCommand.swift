/// A Redis command encoded once in RESP, ready to be appended to any number of connections.
///
/// Encoding is binary-safe (every argument is a bulk string), so keys and tokens may hold any bytes.
package struct RedisCommand: Sendable {
    /// The RESP bytes of the command.
    package let bytes: [UInt8]
    /// A command to send instead, on the same connection, when the server answers `bytes` with an
    /// error that starts with `fallbackErrorPrefix` (e.g. `NOSCRIPT` for `EVALSHA`).
    package let fallback: Fallback?

    package struct Fallback: Sendable {
        package let errorPrefix: String
        /// Encodes the command to send instead, only when it is needed (a script's `EVAL` carries
        /// its whole source, several times the size of the `EVALSHA` that is usually enough).
        package let encode: @Sendable () -> [UInt8]
        /// Whether the fallback may still go out after its round was decided. False for a command
        /// that creates state (an acquire): by then a clean-up release may be queued behind the
        /// original, and the fallback must not land after it.
        package let allowedAfterDecision: Bool

        package init(errorPrefix: String, encode: @escaping @Sendable () -> [UInt8], allowedAfterDecision: Bool) {
            self.errorPrefix = errorPrefix
            self.encode = encode
            self.allowedAfterDecision = allowedAfterDecision
        }
    }

    /// The form to send when nobody will read the reply (so no fallback can follow): the fallback
    /// when there is one (`EVAL` rather than `EVALSHA`), since it works on every server.
    package var bytesNeedingNoFollowUp: [UInt8] { fallback?.encode() ?? bytes }

    package init(_ arguments: [String], fallback: Fallback? = nil) {
        self.bytes = Self.encode(arguments)
        self.fallback = fallback
    }

    package static func encode(_ arguments: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
        append("*", arguments.count, to: &bytes)
        for argument in arguments {
            append("$", argument.utf8.count, to: &bytes)
            bytes.append(contentsOf: argument.utf8)
            bytes.append(contentsOf: [13, 10])
        }
        return bytes
    }

    private static func append(_ marker: Character, _ count: Int, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: marker.utf8)
        bytes.append(contentsOf: String(count).utf8)
        bytes.append(contentsOf: [13, 10])
    }
}
