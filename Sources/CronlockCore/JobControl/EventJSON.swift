/// A job-control event (its fields as the scripts store and publish them, all strings) in the
/// JSON output schema: `run` becomes `run_id`, the job's name `job` (with `key`, its Redis key),
/// `exit` `exit_code`; numbers become numbers, Unix-millisecond times ISO-8601, and `degraded`
/// an array of `{server, reason}`.
enum EventJSON {
    /// The stored fields that are numbers and times; any other field stays a string.
    private static let numbers: [(stored: String, name: String)] = [("pid", "pid"), ("duration_ms", "duration_ms"), ("exit", "exit_code"),
                                                                    ("expect_every_ms", "expect_every_ms")]
    private static let times = ["started_at", "until", "last_started_at"]

    /// `fields` as one JSON object, for jobs under `prefix`.
    static func object(_ fields: [String: String], prefix: String) -> String {
        var writer = JSONObjectWriter()
        var rest = fields
        func take(_ stored: String) -> String? { rest.removeValue(forKey: stored) }
        writer.string("event", take("event"))
        writer.time("at", epochMilliseconds: take("at"))
        if let scope = take("scope") { writer.string("scope", scope) }
        if let job = take("key") {
            writer.string("job", job)
            writer.string("key", prefix + job)
        }
        if let group = take("group") { writer.string("group", group) }
        if let run = take("run") { writer.string("run_id", run) }
        for stored in ["host", "command", "outcome", "by", "reason", "stopped_by", "stop_reason", "output"] {
            if let value = take(stored) { writer.string(stored, value) }
        }
        for (stored, name) in numbers {
            if let value = take(stored) { writer.number(name, value) }
        }
        for stored in times {
            if let value = take(stored) { writer.time(stored, epochMilliseconds: value) }
        }
        if let degraded = take("degraded") ?? (fields["event"] == "finished" ? "" : nil) {
            writer.json("degraded", DegradedServer.json(DegradedServer.parse(field: degraded)))
        }
        for (name, value) in rest.sorted(by: { $0.key < $1.key }) { writer.string(name, value) }
        return writer.text
    }
}
