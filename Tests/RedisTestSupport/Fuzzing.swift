import Foundation

// Seeded fuzzing shared by the test targets: settings and a mutator (the generator is SeededGenerator).

/// `REDLOCK_FUZZ_ITERATIONS` and `REDLOCK_FUZZ_SEED`.
public enum FuzzSettings {
    public static let seed: UInt64 = ProcessInfo.processInfo.environment["REDLOCK_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_2026

    /// The iterations for one test: the environment's, else `fallback`.
    public static func iterations(default fallback: Int) -> Int {
        ProcessInfo.processInfo.environment["REDLOCK_FUZZ_ITERATIONS"].flatMap { Int($0) }.map { max(1, $0) } ?? fallback
    }

    /// Yields Swift's cooperative pool every 1,000 iterations: a CPU-bound loop of seconds would
    /// otherwise keep a pool thread from the tests running beside it.
    public static func yieldOccasionally(_ iteration: Int) async {
        if iteration % 1_000 == 999 { await Task.yield() }
    }
}

/// Turns valid inputs into nearly valid ones: one to four edits, each a bit flip, a random byte
/// set, inserted or deleted, a dictionary token inserted, a range duplicated or removed, a splice
/// with another seed, or a truncation. Nearly valid inputs reach deeper than random bytes.
public struct Mutator {
    public let seeds: [[UInt8]]
    public let dictionary: [[UInt8]]

    public init(seeds: [[UInt8]], dictionary: [String]) {
        self.seeds = seeds
        self.dictionary = dictionary.map { Array($0.utf8) }
    }

    public func mutate(using random: inout SeededGenerator) -> [UInt8] {
        var bytes = seeds.randomElement(using: &random)!
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            edit(&bytes, using: &random)
        }
        return bytes
    }

    private func edit(_ bytes: inout [UInt8], using random: inout SeededGenerator) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &random)
        let inside = min(position, max(0, bytes.count - 1))
        switch Int.random(in: 0..<9, using: &random) {
        case 0 where !bytes.isEmpty: bytes[inside] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1 where !bytes.isEmpty: bytes[inside] = UInt8.random(in: 0...255, using: &random)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
        case 3 where !bytes.isEmpty: bytes.remove(at: inside)
        case 4, 5: bytes.insert(contentsOf: dictionary.randomElement(using: &random)!, at: position)
        case 6 where !bytes.isEmpty:
            let end = Int.random(in: inside...bytes.count, using: &random)
            if Bool.random(using: &random) { bytes.insert(contentsOf: bytes[inside..<end], at: end) } else { bytes.removeSubrange(inside..<end) }
        case 7:
            let other = seeds.randomElement(using: &random)!
            bytes = Array(bytes.prefix(position)) + other.suffix(Int.random(in: 0...other.count, using: &random))
        default: bytes = Array(bytes.prefix(position))
        }
    }
}
