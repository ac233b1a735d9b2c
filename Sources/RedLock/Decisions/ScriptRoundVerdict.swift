/// Judges a token-checked release or extension round from each server's outcome (`granted`: the
/// server still held our token and did what was asked; `notHeld`: it did not hold it).
enum ScriptRoundVerdict: Hashable, Sendable {
    /// A majority confirmed.
    case confirmed
    /// Too few servers still held the lock's token for a majority: it expired or changed hands.
    case notHeld
    /// Too few servers answered to tell.
    case noQuorum
    /// Two configured addresses reach one server: their confirmations are one vote (the message).
    case duplicateServers(String)

    /// A release: confirmed by a majority, or `notHeld` when the servers that answered make a
    /// majority but too few of them held the token.
    static func release(_ outcomes: [ServerOutcome], quorum: Int) -> Self {
        let confirmed = outcomes.count { $0.kind == .granted }
        if confirmed >= quorum { return .confirmed }
        return confirmed + outcomes.count { $0.kind == .notHeld } >= quorum ? .notHeld : .noQuorum
    }

    /// An extension started at `startedAt`: confirmed when a majority confirmed before the new
    /// validity (`validUntil`) passed at `now`; `notHeld` when so many servers lost the token that
    /// no majority can have it.
    static func extending(_ outcomes: [ServerOutcome], quorum: Int, duplicateServers: String?,
                          now: ContinuousClock.Instant, validUntil: ContinuousClock.Instant) -> Self {
        if let duplicateServers { return .duplicateServers(duplicateServers) }
        if outcomes.count(where: { $0.kind == .granted }) >= quorum, now < validUntil { return .confirmed }
        return outcomes.count { $0.kind == .notHeld } > outcomes.count - quorum ? .notHeld : .noQuorum
    }
}
