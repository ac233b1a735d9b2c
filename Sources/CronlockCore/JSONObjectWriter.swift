/// A JSON object in cronlock's one output schema (see the README's "JSON output"), written field
/// by field: numbers as numbers, times as ISO-8601 UTC with milliseconds, a missing value as `null`.
struct JSONObjectWriter {
    private var fields: [(String, String)] = []

    /// `value` as a string.
    mutating func string(_ key: String, _ value: String?) {
        fields.append((key, value.map(JSONText.string) ?? "null"))
    }

    /// `value` as a number.
    mutating func number(_ key: String, _ value: Int64?) {
        fields.append((key, value.map { String($0) } ?? "null"))
    }

    /// `value` (a decimal string, as Redis keeps it) as a number, or `null` when it is not one.
    mutating func number(_ key: String, _ value: String?) {
        number(key, value.flatMap { Int64($0) })
    }

    /// A time in Unix milliseconds as `2026-11-23T12:00:00.123Z`.
    mutating func time(_ key: String, epochMilliseconds value: Int64?) {
        string(key, value.map { WallClock.iso8601(epochMilliseconds: $0) })
    }

    /// A time in Unix milliseconds as Redis keeps it (a decimal string), or `null`.
    mutating func time(_ key: String, epochMilliseconds value: String?) {
        time(key, epochMilliseconds: value.flatMap { Int64($0) })
    }

    /// A value already encoded as JSON.
    mutating func json(_ key: String, _ encoded: String) {
        fields.append((key, encoded))
    }

    /// The object.
    var text: String { JSONText.object(fields) }
}
