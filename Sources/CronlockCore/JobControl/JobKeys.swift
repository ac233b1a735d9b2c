/// Where job control keeps its state on each master, next to the lock `<prefix><name>`.
///
/// Everything of a job lives under `<prefix>_jc:<group>:`, so a Redis ACL key pattern per group
/// (`~cronlock:_jc:teamA:*`) confines a team to its own jobs; the global pause and the job
/// registry live under `<prefix>_jc:@…` (`@` cannot start a group name).
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>_jc:@all:pause` | hash | pause of every job: `by`, `reason`, `at` (ms), TTL with `--for` |
/// | `<prefix>_jc:@jobs` | hash | job name → group, for every job that ever ran |
/// | `<prefix>_jc:<group>:pause` | hash | pause of the group |
/// | `<prefix>_jc:<group>:pause:<name>` | hash | pause of one job |
/// | `<prefix>_jc:<group>:job:<name>` | hash | last outcome, current run (live while the lock holds its value), skips per host |
/// | `<prefix>_jc:<group>:history:<name>` | stream | `started` and `finished` events, capped |
/// | `<prefix>_jc:<group>:stop:<name>` | hash | a stop request for one run: `run`, `by`, `reason` |
/// | `<prefix>_jc:<group>:late:<name>` | hash | the lateness announced last: `lateness` (its start), `by` (the dashboard) |
/// | channel `<prefix>_jc:<group>:events` | pub/sub | every event, as JSON |
package struct JobKeys: Sendable, Equatable {
    /// The group jobs belong to when none is given.
    package static let defaultGroup = "default"

    package let prefix: String
    package let group: String
    package let name: String

    package init(prefix: String, group: String, name: String) {
        self.prefix = prefix
        self.group = group
        self.name = name
    }

    package var lock: String { prefix + name }
    var pauseAll: String { Self.pauseAll(prefix: prefix) }
    var pauseGroup: String { Self.pauseGroup(prefix: prefix, group: group) }
    var pauseJob: String { "\(groupSpace)pause:\(name)" }
    var job: String { "\(groupSpace)job:\(name)" }
    var history: String { "\(groupSpace)history:\(name)" }
    var stop: String { "\(groupSpace)stop:\(name)" }
    var late: String { "\(groupSpace)late:\(name)" }
    package var events: String { Self.events(prefix: prefix, group: group) }
    var registry: String { Self.registry(prefix: prefix) }

    private var groupSpace: String { "\(prefix)_jc:\(group):" }

    static func pauseAll(prefix: String) -> String { "\(prefix)_jc:@all:pause" }
    static func pauseGroup(prefix: String, group: String) -> String { "\(prefix)_jc:\(group):pause" }
    static func registry(prefix: String) -> String { "\(prefix)_jc:@jobs" }
    package static func events(prefix: String, group: String) -> String { "\(prefix)_jc:\(group):events" }
    /// The channel pattern of every group's events.
    package static func allEvents(prefix: String) -> String { "\(Self.escapedForPattern(prefix))_jc:*:events" }
    /// The channel pattern of a group's channels, `<prefix>_jc:<group>:*`: literally the pattern a
    /// per-team ACL grants (`&cronlock:_jc:alpha:*`), which Redis requires of `PSUBSCRIBE`.
    static func groupChannels(prefix: String, group: String) -> String { "\(Self.escapedForPattern(prefix))_jc:\(group):*" }

    /// Why `group` cannot name a group, or nil when it can: 1 to 64 of `A-Z a-z 0-9 . _ -`, not
    /// starting with `@` (reserved), so group names never collide with each other's keys.
    package static func problem(withGroup group: String) -> String? {
        guard !group.isEmpty, group.utf8.count <= 64 else { return "a group name must be 1 to 64 characters" }
        let allowed = group.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        return allowed ? nil : "a group name may hold only letters, digits, '.', '_' and '-', not \"\(group)\""
    }

    /// `text` with the glob characters of Redis patterns escaped.
    static func escapedForPattern(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
