import RedisIO

/// The highest fence this client has seen per resource: it lets the next proposal start above
/// it. Only a hint: safety rests on the masters' fences, so forgetting it costs at most a round.
final class FenceMemory: Sendable {
    /// Resources remembered at most; past that the memory starts afresh.
    private static let capacity = 4096
    private let fences = PthreadLock<[String: UInt64]>([:])

    func highest(for resource: String) -> UInt64? {
        fences.withLock { $0[resource] }
    }

    /// Notes fences seen for `resource` (from refusals, or a granted proposal).
    func record(_ seen: [UInt64], for resource: String) {
        guard let top = seen.max() else { return }
        fences.withLock { fences in
            if fences.count >= Self.capacity, fences[resource] == nil { fences.removeAll(keepingCapacity: true) }
            fences[resource] = max(fences[resource] ?? 0, top)
        }
    }
}
