import RedLock

/// A pub/sub channel that a job's runs (or `watch --group`) use, and what stops working when the
/// ACL user may not use it. `cronlock doctor --key` checks each with `ACL DRYRUN`.
struct ChannelUse: Sendable, Equatable {
    /// `PUBLISH`, `SUBSCRIBE` or `PSUBSCRIBE`.
    var command: String
    /// The channel, or for `PSUBSCRIBE` the pattern (which Redis requires granted literally).
    var channel: String
    /// What is lost without the right.
    var loss: String
    /// The ACL selector that grants it (`&pattern`).
    var grant: String

    /// The command as `ACL DRYRUN <user>` takes it (nothing is published or subscribed).
    var dryRunArguments: [String] { command == "PUBLISH" ? [command, channel, "doctor"] : [command, channel] }

    /// Every channel a run of the job behind `keys` publishes or subscribes to: its group's events
    /// (and the pattern `watch --group` follows, which grants both), and the release notice of its lock.
    static func uses(of keys: JobKeys) -> [ChannelUse] {
        let group = JobKeys.groupChannels(prefix: keys.prefix, group: keys.group)
        let release = RedLockClient.releaseChannel(for: keys.lock)
        let releaseGrant = "&" + JobKeys.escapedForPattern(release)
        return [
            ChannelUse(command: "PUBLISH", channel: keys.events, loss: "watch and the dashboard miss the job's events", grant: "&" + group),
            ChannelUse(command: "PSUBSCRIBE", channel: group, loss: "watch --group \(keys.group) exits 77", grant: "&" + group),
            ChannelUse(command: "PUBLISH", channel: release, loss: "runs waiting with --wait hear of a release only at their next retry", grant: releaseGrant),
            ChannelUse(command: "SUBSCRIBE", channel: release, loss: "a run waiting with --wait polls instead of hearing of the release", grant: releaseGrant),
        ]
    }
}
