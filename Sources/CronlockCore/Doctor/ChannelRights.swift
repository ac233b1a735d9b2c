/// What `ACL DRYRUN` said about a job's channels (`ChannelUse`) on one master.
enum ChannelRights: Sendable, Equatable {
    /// The ACL user may use every channel.
    case allowed(user: String)
    /// The ACL user may not use these.
    case denied(user: String, [ChannelUse])
    /// The check could not be made; why (e.g. the user may not run `ACL WHOAMI` or `ACL DRYRUN`).
    case notChecked(String)
}
