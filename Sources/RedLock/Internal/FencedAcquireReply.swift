import RedisIO

/// One master's answer to an acquire, read in the shapes of the fenced script
/// (`LockScripts.fenced(_:)`) as well as the plain ones.
struct FencedAcquireReply: Sendable, Equatable {
    /// The answer in the plain acquire's shape: nil (granted), the holder's value (held), or a
    /// table; `{"fence", fence}` (the proposal was not above the fence) is kept as it came.
    let plain: RedisReply
    /// The master's fence, when it sent one (with a refusal).
    let fence: UInt64?

    init(_ reply: RedisReply) {
        switch reply {
        case .array(let parts) where parts.count == 3 && parts[0] == .bulk("held"):
            plain = parts[1]
            fence = Self.number(parts[2])
        case .array(let parts) where parts.count == 2 && parts[0] == .bulk("fence"):
            plain = reply
            fence = Self.number(parts[1])
        default:
            plain = reply
            fence = nil
        }
    }

    /// True for `{"fence", fence}`: the key was free, the proposal too low.
    var isLowProposal: Bool {
        if case .array(let parts) = plain, parts.first == .bulk("fence") { true } else { false }
    }

    private static func number(_ reply: RedisReply) -> UInt64? {
        if case .bulk(let text) = reply { UInt64(text) } else { nil }
    }
}
