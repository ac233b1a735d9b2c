import ArgumentParser

/// Durations as operators write them: a number and a unit, `500ms`, `30s`, `1.5s`, `5m`, `1h`.
public struct DurationText: Sendable, Hashable, ExpressibleByArgument, CustomStringConvertible {
    public let duration: Duration
    public let description: String

    public init?(argument: String) {
        try? self.init(parsing: argument)
    }

    /// Parses `text`, throwing a `ValidationError` that says what is accepted.
    public init(parsing text: String) throws {
        duration = try Self.parse(text)
        description = text
    }

    /// Parses `text`, or throws a `ValidationError` saying what is wrong and what is accepted.
    public static func parse(_ text: String) throws -> Duration {
        let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = text.dropFirst(number.count)
        let secondsPerUnit: [Substring: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600]
        guard let scale = secondsPerUnit[unit], let value = Double(number), value.isFinite else {
            throw ValidationError("\"\(text)\" is not a duration: write a number and a unit, e.g. 500ms, 30s, 5m, 1h")
        }
        let seconds = value * scale
        guard seconds <= 365 * 24 * 3600 else {
            throw ValidationError("\"\(text)\" is longer than a year")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// `--wait`: a duration, or `forever`.
public enum WaitText: Sendable, Hashable, ExpressibleByArgument {
    case upTo(Duration)
    case forever

    public init?(argument: String) {
        try? self.init(parsing: argument)
    }

    /// The duration, or `nil` for `forever`.
    public var duration: Duration? {
        if case .upTo(let duration) = self { duration } else { nil }
    }

    /// Parses `forever` or a duration, throwing a `ValidationError` that says what is accepted.
    public init(parsing text: String) throws {
        if text == "forever" { self = .forever; return }
        do {
            self = .upTo(try DurationText.parse(text))
        } catch {
            throw ValidationError("\"\(text)\" is neither a duration (500ms, 30s, 5m, 1h) nor forever")
        }
    }
}
