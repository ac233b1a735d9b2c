/// Every master publishes each job-control event; this lets one copy through. An event is known by
/// its kind and run (`finished|1df4…`), or by its whole text when it has no run (pause, resume).
package struct JobEventDeduplicator: Sendable {
    /// Events remembered.
    private static let memory = 4096

    private var recent: [String] = []
    private var seen: Set<String> = []

    package init() {}

    /// The event's fields (nil when `payload` is not a flat JSON object) and whether it is the
    /// first copy seen.
    package mutating func admit(_ payload: String) -> (fields: [String: String]?, isNew: Bool) {
        let fields = JSONText.flatObject(payload)
        let identity = fields.flatMap { fields in fields["run"].map { "\(fields["event"] ?? "")|\($0)" } } ?? payload
        guard seen.insert(identity).inserted else { return (fields, false) }
        recent.append(identity)
        if recent.count > Self.memory { seen.remove(recent.removeFirst()) }
        return (fields, true)
    }
}
