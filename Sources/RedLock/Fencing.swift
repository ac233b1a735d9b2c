/// Whether acquisitions carry a fencing token (`Lock.fencingToken`), and how much durability the
/// servers must show for it (see `RedLockConfiguration.fencing` and the README's Fencing).
public struct Fencing: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String {
        case off
        case bestEffort = "best effort"
        case required
    }

    private let base: Base

    /// No token: the acquire is today's `SET key value NX PX ttl GET`, unchanged.
    public static let off = Fencing(base: .off)

    /// Tokens from every master, with or without AOF. Strictly increasing as long as no master
    /// forgets its fence: one that restarts without persistence may let an older token win again.
    public static let bestEffort = Fencing(base: .bestEffort)

    /// Tokens only from masters with AOF on (`aof_enabled:1` in `INFO persistence`): the vote of
    /// any other master (or one whose `INFO` cannot be read) is withheld, and its
    /// `ServerReport` says why.
    public static let required = Fencing(base: .required)

    /// True unless `.off`.
    public var isOn: Bool { base != .off }

    public var description: String { base.rawValue }

    /// Why a master's grant must not count under this mode, or nil: `.required` withholds the
    /// vote of a master without AOF, or whose persistence is unknown (`appendOnly` nil).
    func withheldVote(appendOnly: Bool?) -> String? {
        guard base == .required else { return nil }
        switch appendOnly {
        case true?: return nil
        case false?: return "it runs without AOF (appendonly no), and fencing .required needs a master that keeps its fence across a restart"
        case nil: return "its INFO persistence could not be read, and fencing .required needs a master shown to run with AOF"
        }
    }
}
