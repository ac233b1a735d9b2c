import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// cronlock's log output: one line per event on stderr, as text or JSON (for log shippers).
/// Each line is written with one `write(2)` so lines from concurrent threads never interleave.
package struct StderrLogHandler: LogHandler {
    package enum Format: String, Sendable, CaseIterable { case text, json }

    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: Format

    package init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let line: String
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            line = "\(WallClock.iso8601Now()) \(event.level) \(label): \(event.message)\(fields)\n"
        case .json:
            line = Self.jsonLine(level: event.level, label: label, message: "\(event.message)",
                                 metadata: merged.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") })
        }
        Self.emit(line)
    }

    /// One JSON log line (with its newline): time, level, logger, message, then `metadata`.
    static func jsonLine(level: Logger.Level, label: String, message: String, metadata: [(String, String)] = []) -> String {
        let fields = [("time", JSONText.string(WallClock.iso8601Now())), ("level", JSONText.string("\(level)")),
                      ("logger", JSONText.string(label)), ("message", JSONText.string(message))]
            + metadata.map { ($0.0, JSONText.string($0.1)) }
        return JSONText.object(fields) + "\n"
    }

    /// Writes `line` to stderr with one `write(2)`.
    static func emit(_ line: String) {
        var bytes = Array(line.utf8)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
    }

    /// Whether cronlock's own error lines (`CronlockMain.printError`) are JSON: set from
    /// `--log-format` before the arguments are parsed, so that a usage error is JSON too.
    static let errorLinesAreJSON = Atomic<Bool>(false)

    /// The `--log-format` that `arguments` ask for (the last one before `--`), if any.
    static func requestedFormat(in arguments: [String]) -> Format? {
        var format: Format?
        var position = 0
        while position < arguments.count, arguments[position] != "--" {
            let argument = arguments[position]
            if argument == "--log-format", position + 1 < arguments.count {
                format = Format(rawValue: arguments[position + 1]) ?? format
                position += 1
            } else if argument.hasPrefix("--log-format=") {
                format = Format(rawValue: String(argument.dropFirst("--log-format=".count))) ?? format
            }
            position += 1
        }
        return format
    }
}

/// The wall-clock time, for log lines and holder identities (never for lock timing).
package enum WallClock {
    /// Now as `2026-11-23T12:00:00.123Z`.
    static func iso8601Now() -> String {
        iso8601(epochMilliseconds: epochMilliseconds())
    }

    /// Now, in milliseconds since the Unix epoch.
    package static func epochMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// `milliseconds` since the Unix epoch as `2026-11-23T12:00:00.123Z`.
    package static func iso8601(epochMilliseconds milliseconds: Int64) -> String {
        var parts = tm()
        var seconds = time_t(milliseconds / 1000)
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))T"
            + "\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))."
            + "\(padded(Int32(milliseconds % 1000), 3))Z"
    }
}
