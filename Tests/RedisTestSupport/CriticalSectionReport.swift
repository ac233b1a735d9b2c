/// One critical section as a contender process reports it on stdout, one line each:
/// `cs <key> <start> <end> <validUntil>` in `MonotonicTime` nanoseconds (`validUntil` is `-` when
/// the holder cannot know it, as for the command cronlock runs, whose run is its validity).
public struct CriticalSectionReport: Sendable, Hashable {
    /// The lock's key ( `-` when the reporter does not know it).
    public var key: String
    /// When the holder began acting under the lock.
    public var start: Int64
    /// When it stopped.
    public var end: Int64
    /// Until when the holder believed its lock valid, if it knows.
    public var validUntil: Int64?

    public init(key: String, start: Int64, end: Int64, validUntil: Int64?) {
        self.key = key
        self.start = start
        self.end = end
        self.validUntil = validUntil
    }

    /// The line for stdout, with its newline.
    public var line: String {
        "cs \(key) \(start) \(end) \(validUntil.map(String.init) ?? "-")\n"
    }

    /// Parses a line written by `line`; `nil` for any other line.
    public init?(line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.count == 5, fields[0] == "cs", let start = Int64(fields[2]), let end = Int64(fields[3]) else { return nil }
        key = String(fields[1])
        self.start = start
        self.end = end
        validUntil = Int64(fields[4])
    }
}
