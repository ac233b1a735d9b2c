/// Minimal JSON writing for log lines and `status --json` (no Foundation: start-up time matters).
package enum JSONText {
    /// `value` as a JSON string literal, quotes included.
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An object from already-encoded values, in the given order.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}

extension JSONText {
    /// The members of a flat JSON object whose values are strings or numbers (as job-control
    /// events are), or nil for anything else.
    package static func flatObject(_ text: String) -> [String: String]? {
        var reader = FlatObjectReader(scalars: Array(text.unicodeScalars))
        return reader.readObject()
    }
}

/// Reads one flat JSON object; see `JSONText.flatObject`.
private struct FlatObjectReader {
    let scalars: [Unicode.Scalar]
    var position = 0

    mutating func readObject() -> [String: String]? {
        guard take("{") else { return nil }
        var members: [String: String] = [:]
        if take("}") { return members }
        repeat {
            guard let name = readString(), take(":"), let value = readValue() else { return nil }
            members[name] = value
        } while take(",")
        return take("}") && atEnd ? members : nil
    }

    private var atEnd: Bool {
        mutating get {
            skipWhitespace()
            return position == scalars.count
        }
    }

    private mutating func readValue() -> String? {
        skipWhitespace()
        if position < scalars.count, scalars[position] == "\"" { return readString() }
        let start = position
        while position < scalars.count, "-+.0123456789eE".unicodeScalars.contains(scalars[position]) { position += 1 }
        return position > start ? String(String.UnicodeScalarView(scalars[start..<position])) : nil
    }

    private mutating func readString() -> String? {
        guard take("\"") else { return nil }
        var value = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "\"": return String(value)
            case "\\":
                guard position < scalars.count else { return nil }
                let escaped = scalars[position]
                position += 1
                switch escaped {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "r": value.append("\r")
                case "b": value.append("\u{8}")
                case "f": value.append("\u{C}")
                case "u":
                    guard position + 4 <= scalars.count,
                          let code = UInt32(String(String.UnicodeScalarView(scalars[position..<position + 4])), radix: 16) else { return nil }
                    position += 4
                    value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: value.append(escaped)
                }
            default: value.append(scalar)
            }
        }
        return nil
    }

    private mutating func take(_ expected: Unicode.Scalar) -> Bool {
        skipWhitespace()
        guard position < scalars.count, scalars[position] == expected else { return false }
        position += 1
        return true
    }

    private mutating func skipWhitespace() {
        while position < scalars.count, " \n\r\t".unicodeScalars.contains(scalars[position]) { position += 1 }
    }
}
