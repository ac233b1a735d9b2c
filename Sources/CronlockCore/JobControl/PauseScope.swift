/// What a pause covers: every job, a group, or one job. Events carry it as `scope` (`all`,
/// `group`, `job`) with `group` and `key` (the job's name) where they apply.
struct PauseScope: Sendable, Hashable {
    enum Kind: String, Sendable {
        case all, group, job
    }

    var kind: Kind
    var group: String?
    var job: String?

    /// `every job`, `group nightly`, `job backup (group nightly)`.
    var description: String {
        switch kind {
        case .all: "every job"
        case .group: "group \(group ?? "?")"
        case .job: "job \(job ?? "?") (group \(group ?? "?"))"
        }
    }

    /// The event fields that name the scope.
    var eventFields: [(String, String)] {
        [("scope", kind.rawValue)] + (group.map { [("group", $0)] } ?? []) + (job.map { [("key", $0)] } ?? [])
    }

    /// The scope named by an event's fields, if it names one.
    init?(eventFields fields: [String: String]) {
        guard let kind = fields["scope"].flatMap(Kind.init(rawValue:)) else { return nil }
        self.init(kind: kind, group: fields["group"], job: fields["key"])
    }

    init(kind: Kind, group: String? = nil, job: String? = nil) {
        self.kind = kind
        self.group = group
        self.job = job
    }
}
