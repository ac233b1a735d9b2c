import RedisIO

extension AcquireRoundMachine.Answer {
    /// Reads a server's reply to the acquire command (`SET … NX PX … GET`, or an extension's
    /// script, plain or fenced: see `FencedAcquireReply`): nil → granted, a bulk string → held by
    /// that value, `{"refused", reason}` → refused, `{"fence", fence}` → fence too low.
    /// `withheld` is why a grant from this server would not count now, if it would not.
    init(_ reply: ServerResult<RedisReply>, withheld: @autoclosure () -> String?) {
        guard case .success(let raw) = reply else {
            if case .failure(let outcome) = reply { self = .failed(outcome) } else { self = .failed(ServerOutcome(.protocolError)) }
            return
        }
        let fenced = FencedAcquireReply(raw)
        if fenced.isLowProposal {
            self = .fenceTooLow(fence: fenced.fence)
            return
        }
        switch fenced.plain {
        case .null:
            if let reason = withheld() { self = .voteWithheld(reason: reason) } else { self = .granted(GrantInfo()) }
        case .bulk(let holder): self = .heldBy(holder)
        case .array(let parts) where parts.first == .bulk("refused"):
            self = .refused(reason: parts.dropFirst().first.flatMap { if case .bulk(let reason) = $0 { reason } else { nil } })
        case let plain: self = .failed(ServerOutcome(unexpected: plain))
        }
    }
}
