/// One line of `cronlock doctor`: how bad, about which master (nil: the deployment as a whole),
/// which check, what was found and what to change.
struct DoctorFinding: Sendable, Equatable {
    /// Ordered: the worst finding decides the exit code (0, 1, 69).
    enum Severity: Int, Sendable, Comparable {
        case ok, warning, failure

        var name: String { ["ok", "warning", "failure"][rawValue] }
        static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    var severity: Severity
    var server: String?
    var check: String
    var message: String
    /// What to change; nil for `ok`.
    var fix: String?

    /// `warning  redis://10.0.1.1:6379  persistence: no AOF …; enable …`
    var text: String {
        "\(severity.name)  \(server ?? "all masters")  \(check): \(message)" + (fix.map { "; \($0)" } ?? "")
    }

    var json: String {
        JSONText.object([
            ("severity", JSONText.string(severity.name)), ("server", server.map(JSONText.string) ?? "null"),
            ("check", JSONText.string(check)), ("message", JSONText.string(message)), ("fix", fix.map(JSONText.string) ?? "null"),
        ])
    }
}
