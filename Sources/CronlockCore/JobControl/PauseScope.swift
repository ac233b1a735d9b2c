/// What a pause applies to: one job, a group, or every job under the prefix.
package struct PauseScope: Sendable, Equatable {
    /// The pause hash (`JobKeys.pauseJob`, `pauseGroup` or `pauseAll`).
    package let key: String
    /// The events channel the pause and resume are published on.
    package let channel: String
    /// How people read it: `job j1 (group default)`, `group teamA`, `every job`.
    package let description: String

    /// Every job under `prefix`.
    package static func everyJob(prefix: String) -> PauseScope {
        PauseScope(key: JobKeys.pauseAll(prefix: prefix), channel: JobKeys.events(prefix: prefix, group: "@all"), description: "every job")
    }

    /// Every job of `group` under `prefix`.
    package static func group(_ group: String, prefix: String) -> PauseScope {
        PauseScope(key: JobKeys.pauseGroup(prefix: prefix, group: group), channel: JobKeys.events(prefix: prefix, group: group),
                   description: "group \(group)")
    }

    /// The one job of `keys`.
    package static func job(_ keys: JobKeys) -> PauseScope {
        PauseScope(key: keys.pauseJob, channel: keys.events, description: "job \(keys.name) (group \(keys.group))")
    }
}
