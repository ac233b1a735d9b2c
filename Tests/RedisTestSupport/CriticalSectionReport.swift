/// One critical section as a contender process reports it on stdout, one line each:
/// `cs <key> <start> <end> <validUntil> <token> <acquireBegan>` in `MonotonicTime` nanoseconds
/// (`-` for a field the reporter cannot know: `validUntil` for the command cronlock runs, whose run
/// is its validity; the token with fencing off; when the acquisition began, for that command).
public struct CriticalSectionReport: Sendable, Hashable {
    /// The lock's key ( `-` when the reporter does not know it).
    public var key: String
    /// When the holder began acting under the lock.
    public var start: Int64
    /// When it stopped.
    public var end: Int64
    /// Until when the holder believed its lock valid, if it knows.
    public var validUntil: Int64?
    /// The lock's fencing token, with fencing on.
    public var token: UInt64?
    /// When the call that acquired the lock began, if the reporter made it.
    public var acquireBegan: Int64?

    public init(key: String, start: Int64, end: Int64, validUntil: Int64?, token: UInt64? = nil, acquireBegan: Int64? = nil) {
        self.key = key
        self.start = start
        self.end = end
        self.validUntil = validUntil
        self.token = token
        self.acquireBegan = acquireBegan
    }

    /// The line for stdout, with its newline.
    public var line: String {
        let optional = { (value: (any CustomStringConvertible)?) in value.map { "\($0)" } ?? "-" }
        return "cs \(key) \(start) \(end) \(optional(validUntil)) \(optional(token)) \(optional(acquireBegan))\n"
    }

    /// Parses a line written by `line`; `nil` for any other line.
    public init?(line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.count == 7, fields[0] == "cs", let start = Int64(fields[2]), let end = Int64(fields[3]) else { return nil }
        key = String(fields[1])
        self.start = start
        self.end = end
        validUntil = Int64(fields[4])
        token = UInt64(fields[5])
        acquireBegan = Int64(fields[6])
    }
}
