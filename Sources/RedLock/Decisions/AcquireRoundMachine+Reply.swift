extension AcquireRoundMachine.Answer {
    /// Reads a server's reply to the acquire command (`SET … NX PX … GET`, or an extension's
    /// script, plain or fenced: see `FencedAcquireReply`): nil → granted, a bulk string → held by
    /// that value, `{"refused", reason}` → refused, `{"fence", fence}` → fence too low.
    /// `withheld` is why a grant from this server would not count now, if it would not.
    init(_ reply: Result<RedisReply, ServerOutcome>, withheld: @autoclosure () -> String?) {
        let fenced = reply.map(FencedAcquireReply.init)
        if case .success(let fenced) = fenced, fenced.isLowProposal {
            self = .fenceTooLow(fence: fenced.fence)
            return
        }
        switch fenced.map(\.plain) {
        case .success(.null):
            if let reason = withheld() { self = .voteWithheld(reason: reason) } else { self = .granted(GrantInfo()) }
        case .success(.bulk(let holder)): self = .heldBy(holder)
        case .success(.array(let parts)) where parts.first == .bulk("refused"):
            self = .refused(reason: parts.dropFirst().first.flatMap { if case .bulk(let reason) = $0 { reason } else { nil } })
        case .success(let reply): self = .failed(ServerOutcome(unexpected: reply))
        case .failure(let outcome): self = .failed(outcome)
        }
    }
}
