#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fencing proposal of an acquisition round: `max(clock µs since the epoch, highest fence
/// seen + 1)`. A master grants only above its fence, so the clock decides only how often the
/// first round is high enough; order and uniqueness come from the fences (README: Fencing).
enum FenceProposal {
    /// Proposals and fences stay below 2^53: the acquire script compares them as Lua doubles.
    static let limit: UInt64 = 1 << 53

    /// How many rounds in a row an acquire reruns at once, without a pause, after masters refused
    /// its proposal as too low (each rerun proposes above every fence returned).
    static let immediateRetries = 3

    /// The proposal for a round, or nil when it would reach `limit`.
    static func make(clockMicroseconds: UInt64, highestSeen: UInt64?) -> UInt64? {
        let proposal = max(clockMicroseconds, highestSeen.map { $0 &+ 1 } ?? 0)
        return proposal < limit && proposal > 0 ? proposal : nil
    }

    /// The wall clock in microseconds since the epoch (`CLOCK_REALTIME`).
    @Sendable static func wallClockMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec)) * 1_000_000 + UInt64(max(0, now.tv_nsec)) / 1_000
    }
}
