import RedisTestSupport

/// What the fencing tokens and the fenced store show after a run in which every contender fenced
/// its writes: whether the store ever accepted an older token after a newer one, whether tokens
/// were unique and increased in acquisition order, and how many stale writes the store refused.
struct FencingFigures: Sendable {
    /// Writes the store accepted.
    var accepted = 0
    /// Writes the store refused (a token below the highest it had accepted).
    var refused = 0
    /// Refused writes of a holder that an overlap found still inside when the next holder
    /// entered: where the lock alone failed and fencing kept the data in order.
    var refusedFromOverlaps = 0
    /// Overlaps whose earlier holder had at least one write refused.
    var overlapsCaught = 0
    /// Accepted writes with a token below one accepted before on the same key (must be none).
    var acceptedOutOfOrder: [String] = []
    /// Tokens that two critical sections of one key shared (must be none).
    var duplicateTokens: [String] = []
    /// Acquisitions that began after another had returned, yet got a token not above it (must be none).
    var orderViolations: [String] = []
    /// Critical sections without a token (every contender fences: must be none).
    var sectionsWithoutToken = 0

    /// The figures for `sections` (every critical section of the run), the store's `writes` per
    /// key, and the `overlaps` the observer found.
    init(sections: [CriticalSectionObserver.Section], writes: [String: [FencedStore.Write]], overlaps: [CriticalSectionObserver.Overlap]) {
        sectionsWithoutToken = sections.count { $0.token == nil }
        for (key, keyWrites) in writes {
            accepted += keyWrites.count { $0.accepted }
            refused += keyWrites.count { !$0.accepted }
            acceptedOutOfOrder += Self.acceptedOutOfOrder(keyWrites).map { "\(key): \($0)" }
        }
        for (_, keySections) in Dictionary(grouping: sections.filter { $0.token != nil }, by: \.key) {
            duplicateTokens += Dictionary(grouping: keySections, by: \.token).values.filter { $0.count > 1 }.map { "\($0)" }
            orderViolations += Self.orderViolations(keySections)
        }
        let overlapping = Set(overlaps.compactMap { overlap in overlap.earlier.token.map { TokenOnKey(key: overlap.earlier.key, token: $0) } })
        let refusedTokens = writes.flatMap { key, keyWrites in keyWrites.filter { !$0.accepted }.map { TokenOnKey(key: key, token: $0.token) } }
        refusedFromOverlaps = refusedTokens.count { overlapping.contains($0) }
        overlapsCaught = overlapping.intersection(refusedTokens).count
    }

    /// Which critical section a write came from: its key and token (tokens are unique per key).
    private struct TokenOnKey: Hashable {
        var key: String
        var token: UInt64
    }

    /// Accepted writes whose token is below the highest accepted before them.
    private static func acceptedOutOfOrder(_ writes: [FencedStore.Write]) -> [FencedStore.Write] {
        var highest: UInt64?
        var found: [FencedStore.Write] = []
        for write in writes where write.accepted {
            if let highest, write.token < highest { found.append(write) }
            highest = max(highest ?? write.token, write.token)
        }
        return found
    }

    /// Pairs of one key's sections where B's acquisition began after A's had returned (A's section
    /// had started) and B's token is not above A's. Each B is checked against the greatest token
    /// among the sections that started before B's acquisition began.
    private static func orderViolations(_ sections: [CriticalSectionObserver.Section]) -> [String] {
        let byStart = sections.sorted { $0.start < $1.start }
        let byBegan = sections.compactMap { section in section.acquireBegan.map { (began: $0, section: section) } }.sorted { $0.began < $1.began }
        var next = byStart.startIndex
        var greatest: CriticalSectionObserver.Section?
        var found: [String] = []
        for (began, later) in byBegan {
            while next < byStart.endIndex, byStart[next].start < began {
                if (greatest?.token ?? 0) < (byStart[next].token ?? 0) { greatest = byStart[next] }
                next += 1
            }
            if let greatest, let token = later.token, let earlier = greatest.token, token <= earlier {
                found.append("\(later) began after \(greatest) had started, with a token not above it")
            }
        }
        return found
    }
}

extension FencingFigures: CustomStringConvertible {
    var description: String {
        var lines = [
            "  fenced store: \(accepted) writes accepted, \(refused) refused (\(refusedFromOverlaps) from holders an overlap found still inside, "
                + "in \(overlapsCaught) overlaps; the rest from holders past their validity)",
            "  accepted out of order: \(acceptedOutOfOrder.count); duplicate tokens: \(duplicateTokens.count); "
                + "tokens not increasing in acquisition order: \(orderViolations.count); sections without a token: \(sectionsWithoutToken)",
        ]
        for finding in (acceptedOutOfOrder + duplicateTokens + orderViolations).prefix(10) { lines.append("    \(finding)") }
        return lines.joined(separator: "\n")
    }
}
