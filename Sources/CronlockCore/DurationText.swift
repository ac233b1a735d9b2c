import ArgumentParser

/// Durations as operators write them: a number and a unit, `500ms`, `30s`, `1.5s`, `5m`, `1h`.
package struct DurationText: Sendable, Hashable, ExpressibleByArgument, CustomStringConvertible {
    package let duration: Duration
    package let description: String

    package init?(argument: String) {
        try? self.init(parsing: argument)
    }

    /// Parses `text`, throwing a `ValidationError` that says what is accepted.
    package init(parsing text: String) throws {
        duration = try Self.parse(text)
        description = text
    }

    /// `duration` as an operator writes it, in the largest unit that keeps it whole: `1h`, `90s`, `250ms`.
    static func text(_ duration: Duration) -> String {
        let milliseconds = Int64((duration / .milliseconds(1)).rounded())
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000)] where milliseconds > 0 && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// Parses `text`, or throws a `ValidationError` saying what is wrong and what is accepted.
    package static func parse(_ text: String) throws -> Duration {
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
package enum WaitText: Sendable, Hashable, ExpressibleByArgument {
    case upTo(Duration)
    case forever

    package init?(argument: String) {
        try? self.init(parsing: argument)
    }

    /// The duration, or `nil` for `forever`.
    package var duration: Duration? {
        if case .upTo(let duration) = self { duration } else { nil }
    }

    /// Parses `forever` or a duration, throwing a `ValidationError` that says what is accepted.
    package init(parsing text: String) throws {
        if text == "forever" { self = .forever; return }
        do {
            self = .upTo(try DurationText.parse(text))
        } catch {
            throw ValidationError("\"\(text)\" is neither a duration (500ms, 30s, 5m, 1h) nor forever")
        }
    }
}
