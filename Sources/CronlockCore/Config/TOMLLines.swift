/// Finds the line where a TOML file writes a key, for error messages (TOMLKit reports positions
/// only for syntax errors). It knows `[table]` headers and `key =` lines, which covers what
/// cronlock's file holds; a key it cannot place gets no line.
struct TOMLLines: Sendable {
    /// Each line's table path (from the header above it) and the key it assigns, if any.
    private let assignments: [(table: [String], key: String?, header: [String]?)]

    init(_ text: String) {
        var table: [String] = []
        var assignments: [(table: [String], key: String?, header: [String]?)] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingWhitespace
            if line.hasPrefix("[") {
                let inside = line.drop { $0 == "[" }.prefix { $0 != "]" }
                table = Self.path(inside)
                assignments.append((table, nil, table))
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let path = Self.path(line[..<equals])
                assignments.append((table + path.dropLast(), path.last, nil))
            } else {
                assignments.append((table, nil, nil))
            }
        }
        self.assignments = assignments
    }

    /// The 1-based line that assigns `key` in the table at `table`, or declares a table under
    /// `table + [key]`; nil when not found.
    func line(of key: String, in table: [String]) -> Int? {
        let index = assignments.firstIndex { ($0.table == table && $0.key == key) || $0.header?.starts(with: table + [key]) == true }
        return index.map { $0 + 1 }
    }

    /// A dotted key (`a."b.c"`) as its parts, quotes and spaces removed.
    private static func path(_ text: Substring) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "." {
                parts.append(current)
                current = ""
            } else if !character.isWhitespace {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}
