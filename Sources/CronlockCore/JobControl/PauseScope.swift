/// What a pause covers: every job, a group, or one job. Events carry it as `scope` (`all`,
/// `group`, `job`) with `group` and `key` (the job's name) where they apply.
package struct PauseScope: Sendable, Hashable {
    package enum Kind: String, Sendable {
        case all, group, job
    }

    package var kind: Kind
    package var group: String?
    package var job: String?

    /// `every job`, `group nightly`, `job backup (group nightly)`.
    package var description: String {
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

    package init(kind: Kind, group: String? = nil, job: String? = nil) {
        self.kind = kind
        self.group = group
        self.job = job
    }

    /// The scope of one job's own pause.
    package static func job(_ keys: JobKeys) -> PauseScope {
        PauseScope(kind: .job, group: keys.group, job: keys.name)
    }

    /// The pause hash of the scope under `prefix`.
    func key(prefix: String) -> String {
        switch kind {
        case .all: JobKeys.pauseAll(prefix: prefix)
        case .group: JobKeys.pauseGroup(prefix: prefix, group: group ?? JobKeys.defaultGroup)
        case .job: JobKeys(prefix: prefix, group: group ?? JobKeys.defaultGroup, name: job ?? "").pauseJob
        }
    }

    /// The channel its `paused` and `resumed` events go to.
    func channel(prefix: String) -> String {
        JobKeys.events(prefix: prefix, group: kind == .all ? "@all" : group ?? JobKeys.defaultGroup)
    }
}
