import ArgumentParser
import CronlockCore
import Foundation
import RedisTestSupport
import Testing
import TestLoad

/// Seeded, mutation-based property tests (issue 6) for what operators type: durations
/// (`DurationText`, `WaitText`) and whole command lines (`CronlockCommand.parseAsRoot`).
///
/// `REDLOCK_FUZZ_ITERATIONS` sets the inputs per test (default: a few seconds' worth, for CI),
/// `REDLOCK_FUZZ_SEED` the seed; a failure names both the seed and the input.
/// The long run: `REDLOCK_FUZZ_ITERATIONS=1000000 swift test --filter Fuzz`.
@Suite("Fuzzing: durations and command lines", .load(.heavy))
struct DurationFuzzTests {
    @Test func durationParserKeepsItsPromisesOnMutatedText() async {
        var random = SeededGenerator(seed: FuzzSettings.seed)
        var accepted = 0
        for iteration in 0..<FuzzSettings.iterations(default: 60_000) {
            await FuzzSettings.yieldOccasionally(iteration)
            let text = DurationMutator.mutate(using: &random)
            if let problem = DurationProperties.check(text, accepted: &accepted) {
                Issue.record("seed \(FuzzSettings.seed), iteration \(iteration), input \(text.debugDescription): \(problem)")
                return
            }
        }
        #expect(accepted > 0, "the mutations never produced a valid duration: the generator is broken")
    }

    @Test func everyWellFormedDurationMeansWhatItSays() async throws {
        var random = SeededGenerator(seed: FuzzSettings.seed &+ 1)
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for iteration in 0..<FuzzSettings.iterations(default: 100_000) {
            await FuzzSettings.yieldOccasionally(iteration)
            let (unit, milliseconds) = units.randomElement(using: &random)!
            let count = Int64.random(in: 0...(365 * 24 * 3_600_000 / milliseconds), using: &random)
            let duration = try DurationText.parse("\(count)\(unit)")
            #expect(duration == .milliseconds(count * milliseconds), "\(count)\(unit)")
            guard duration == .milliseconds(count * milliseconds) else { return }
        }
    }

    @Test func commandLineParsingNeverCrashesOnMutatedArguments() async {
        var random = SeededGenerator(seed: FuzzSettings.seed &+ 2)
        var parsed = 0
        // ArgumentParser builds the whole command tree per parse (tens of ms in a debug build), so
        // this runs a thousandth of the iterations.
        for _ in 0..<max(1, FuzzSettings.iterations(default: 60_000) / 1_000) {
            await Task.yield()  // each parse takes tens of ms
            let arguments = CommandLineMutator.mutate(using: &random)
            do {
                _ = try CronlockCommand.parseAsRoot(arguments)
                parsed += 1
            } catch {
                // A rejection must be one line that an operator can read.
                let message = CronlockCommand.message(for: error)
                #expect(!message.isEmpty && !message.contains("\n"), "\(arguments): not one line: \(message.debugDescription)")
            }
        }
        #expect(parsed > 0, "no mutated command line parsed: the generator is broken")
    }
}

/// Valid durations, edited one to three times: a character replaced, inserted or deleted, a token
/// inserted, a splice of two seeds.
enum DurationMutator {
    static let seeds = ["500ms", "30s", "1.5s", "5m", "1h", "0s", "8760h", "525600m", "31536000s", "0.001s", ".5s", "1.s", "forever"]
    static let tokens = ["ms", "s", "m", "h", ".", "..", "-", "+", "e", "E5", "inf", "nan", "0x", "\0", "\n", " ", "٣", "½", "é",
                         String(repeating: "9", count: 40), String(repeating: "0", count: 40), "1" + String(repeating: "0", count: 400)]

    static func mutate(using random: inout SeededGenerator) -> String {
        var scalars = Array(seeds.randomElement(using: &random)!.unicodeScalars)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let position = Int.random(in: 0...scalars.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !scalars.isEmpty: scalars[min(position, scalars.count - 1)] = randomScalar(using: &random)
            case 1: scalars.insert(randomScalar(using: &random), at: position)
            case 2 where !scalars.isEmpty: scalars.remove(at: min(position, scalars.count - 1))
            case 3: scalars.insert(contentsOf: tokens.randomElement(using: &random)!.unicodeScalars, at: position)
            default: scalars = Array(scalars.prefix(position)) + Array(seeds.randomElement(using: &random)!.unicodeScalars)
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    private static func randomScalar(using random: inout SeededGenerator) -> Unicode.Scalar {
        Bool.random(using: &random)
            ? Unicode.Scalar(UInt8.random(in: 0...127, using: &random))
            : Unicode.Scalar(UInt32.random(in: 0x80...0x1F_FFF, using: &random)) ?? "?"
    }
}

/// What `DurationText.parse` and `WaitText` promise for any text.
enum DurationProperties {
    static let year = Duration.seconds(365 * 24 * 3600)

    /// The first promise `text` breaks, or nil.
    static func check(_ text: String, accepted: inout Int) -> String? {
        let wait = try? WaitText(parsing: text)
        do {
            let duration = try DurationText.parse(text)
            accepted += 1
            guard duration >= .zero, duration <= year else { return "accepted as \(duration)" }
            guard text.hasSuffix("ms") || text.hasSuffix("s") || text.hasSuffix("m") || text.hasSuffix("h") else {
                return "accepted without a unit"
            }
            guard text.unicodeScalars.allSatisfy({ $0.isASCII }) else { return "accepted non-ASCII text" }
            // Whole milliseconds, and the same value when written back in milliseconds.
            let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
            guard (try? DurationText.parse("\(milliseconds)ms")) == duration else { return "\(duration) does not read back" }
            guard wait == .upTo(duration) else { return "--wait reads it as \(String(describing: wait))" }
        } catch {
            let message = "\(error)"
            guard message.contains("duration") || message.contains("year") else { return "unclear rejection: \(message)" }
            guard wait == nil || (text == "forever" && wait == .forever) else { return "--wait accepts what --ttl rejects" }
        }
        return nil
    }
}

/// Valid command lines with one or two arguments replaced, inserted, dropped or fused.
enum CommandLineMutator {
    static let seeds: [[String]] = [
        ["--key", "job", "--", "true"],
        ["--key", "job", "--ttl", "5s", "--wait", "forever", "--min-hold", "0s", "--server", "redis://127.0.0.1:1", "--", "sh", "-c", "x"],
        ["--key", "job", "--timeout", "1m", "--kill-after", "500ms", "-E", "0", "--log-level", "debug", "--log-format", "json", "--", "true"],
        ["status", "--key", "job", "--json", "--server", "h:1"],
        ["--prefix", "", "--key", "k", "--password-file", "/dev/null", "--", "true"],
    ]
    static let pieces = ["--key", "--ttl", "--wait", "--min-hold", "--timeout", "--server", "-E", "--", "-", "=", "--ttl=", "status", "demo",
                         "--help", "-h", "", "0s", "-1s", "1e9h", "forever", "redis://[::1", "\u{0}", "\n", "--conflict-exit-code=-1",
                         "99999999999999999999", "--log-level", "--log-format", "--prefix", "--json"]

    static func mutate(using random: inout SeededGenerator) -> [String] {
        var arguments = seeds.randomElement(using: &random)!
        for _ in 0..<Int.random(in: 1...2, using: &random) {
            let position = Int.random(in: 0...arguments.count, using: &random)
            let inside = min(position, max(0, arguments.count - 1))
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !arguments.isEmpty: arguments[inside] = pieces.randomElement(using: &random)!
            case 1 where !arguments.isEmpty: arguments.remove(at: inside)
            case 2 where !arguments.isEmpty: arguments[inside] += pieces.randomElement(using: &random)!
            default: arguments.insert(pieces.randomElement(using: &random)!, at: position)
            }
        }
        return arguments
    }
}
