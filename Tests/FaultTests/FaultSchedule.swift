import FaultSupport
import RedisTestSupport

/// The seeded sequence of faults: the same seed gives the same kinds, targets and durations (how
/// they interleave with the contenders still depends on timing).
struct FaultSchedule: Sendable {
    private var generator: SeededGenerator
    private let kinds: [FaultKind]
    private let serverCount: Int
    private let contenderCount: Int

    /// `lane` numbers the schedules that run side by side in one run (each has its own sequence);
    /// `contenderCount` is how many contender processes a `.pauseContender` may stop.
    init(seed: UInt64, lane: UInt64 = 0, kinds: [FaultKind], serverCount: Int, contenderCount: Int = 0) {
        generator = SeededGenerator.derived(from: seed, stream: 0xFA17_0000 + lane)
        self.kinds = kinds
        self.serverCount = serverCount
        self.contenderCount = contenderCount
        firstRound = Array(Set(kinds)).sorted().shuffled(using: &generator)
    }

    /// Every kind once, in a seeded order, before the random draws: a short run covers them all.
    private var firstRound: [FaultKind]

    /// The next fault, on servers that no other fault is acting on (`busy`, which includes the
    /// `down` servers waiting for their delayed restart); `nil` when every server is busy.
    mutating func next(busy: Set<Int>, down: Int) -> FaultEpisode? {
        let free = (0..<serverCount).filter { !busy.contains($0) }
        guard !free.isEmpty else { return nil }
        var kind = firstRound.popLast() ?? kinds.randomElement(using: &generator)!
        let majority = serverCount / 2 + 1
        // Keep at most one server waiting for its restart, so that other faults still find targets;
        // and a "majority" needs that many free servers.
        if kind == .killRestartAfterTTL, down > 0 { kind = .pauseMinority }
        if kind == .pauseMajority, free.count < majority { kind = .pauseMinority }
        if kind == .pauseContender, contenderCount == 0 { kind = .pauseMinority }
        let count: Int
        switch kind {
        case .pauseMinority: count = Int.random(in: 1...(majority - 1), using: &generator)
        case .pauseMajority: count = Int.random(in: majority...serverCount, using: &generator)
        case .killRestartAfterTTL: count = 1
        // At once, up to a majority: a majority coming back empty frees every key at once.
        case .killRestartAtOnce: count = Int.random(in: 1...majority, using: &generator)
        case .debugSleep, .outOfMemory, .wrongPassword, .earlyExpiry: count = Int.random(in: 1...majority, using: &generator)
        case .pauseContender: count = 0
        }
        let targets = Array(free.shuffled(using: &generator).prefix(count)).sorted()
        let contender = kind == .pauseContender ? Int.random(in: 0..<contenderCount, using: &generator) : nil
        let hold: Duration = switch kind {
        case .debugSleep: milliseconds(50...300)
        case .killRestartAfterTTL, .killRestartAtOnce, .earlyExpiry: .zero
        // Beyond the contender's TTL, which the injector adds.
        case .pauseContender: milliseconds(50...300)
        default: milliseconds(30...400)
        }
        return FaultEpisode(kind: kind, targets: targets, contender: contender, hold: hold, gapAfter: milliseconds(20...150))
    }

    private mutating func milliseconds(_ range: ClosedRange<Int64>) -> Duration {
        .milliseconds(Int64.random(in: range, using: &generator))
    }
}
