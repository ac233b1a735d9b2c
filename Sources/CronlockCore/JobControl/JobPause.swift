/// A pause that covers a job, as a majority of masters has it.
package struct JobPause: Sendable, Hashable {
    package var scope: PauseScope
    package var by: String?
    package var reason: String
    /// When a `pause --for` ends (Unix ms).
    package var until: Int64?

    /// `every job by ana@ops-1: storage migration`; the job's own pause is just `job`.
    package var text: String {
        let reason = reason.isEmpty ? "" : ": \(reason)"
        return "\(scope.kind == .job ? "job" : scope.description) by \(by ?? "?")\(reason)"
    }

    /// The pause in the JSON output schema: `scope`, `by`, `reason`, `until`.
    var json: String {
        var writer = JSONObjectWriter()
        writer.string("scope", scope.kind.rawValue)
        writer.string("by", by)
        writer.string("reason", reason)
        writer.time("until", epochMilliseconds: until)
        return writer.text
    }
}
