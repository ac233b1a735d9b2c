/// Which release notices a client acts on: each release once (every server announces it, with one
/// digest), and then only with probability `answeringClients` / K, K being the waiting clients the
/// announcing server counted, so that a release starts about two rounds whatever K is (see
/// `ReleaseWatches`). Randomness is passed in.
struct ReleaseNoticeFilter: Sendable {
    /// How many waiting clients should answer one release, on average.
    static let answeringClients = 2.0
    /// Digests remembered per channel.
    static let digestsRemembered = 8

    /// Per channel, the digests of the last few releases heard.
    private var recentDigests: [String: [String]] = [:]

    /// Whether to act on `payload` ("<digest> <listening clients>") heard on `channel`: false for a
    /// release already heard from another server, else true with probability 2/K.
    mutating func answers(_ payload: String, on channel: String, using random: inout some RandomNumberGenerator) -> Bool {
        let parts = payload.split(separator: " ", maxSplits: 1)
        let digest = String(parts.first ?? "")
        guard !(recentDigests[channel]?.contains(digest) ?? false) else { return false }
        recentDigests[channel, default: []].append(digest)
        if recentDigests[channel]!.count > Self.digestsRemembered { recentDigests[channel]!.removeFirst() }
        let listening = parts.count == 2 ? Double(parts[1]) ?? 1 : 1
        return Double.random(in: 0..<1, using: &random) < Self.answeringClients / max(1, listening)
    }

    /// Forgets `channel`'s digests (nobody watches it any more).
    mutating func forget(_ channel: String) {
        recentDigests[channel] = nil
    }
}
