import Testing

/// How a test loads the machine, so that one unfiltered `swift test` on two cores never runs
/// timing checks beside CPU-heavy suites, nor anything beside a test that counts the process's
/// descriptors and threads.
///
/// Tests of one kind run together (at most `limit` at once); kinds never mix. Apply it to a suite
/// (`@Suite(.load(.timed))`, it applies to every test and argument row in it) or to one test; a
/// test's own kind overrides its suite's, the more restrictive one winning.
public enum TestLoad: Int, Sendable, Comparable {
    /// Checks durations or deadlines against real servers and processes; mostly waits.
    case timed
    /// Busy on the CPU or spawns many processes (bad-input catalogs, fuzzing).
    case heavy
    /// Must be alone: counts the process's descriptors and threads, or loads both cores.
    case alone

    /// How many tests of this kind may run at once.
    public var limit: Int {
        switch self {
        case .timed: 3
        case .heavy: 2
        case .alone: 1
        }
    }

    public static func < (lhs: TestLoad, rhs: TestLoad) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The trait that runs a test (each of its argument rows) under `TestLoadGate`.
public struct TestLoadTrait: SuiteTrait, TestTrait, TestScoping {
    public let load: TestLoad
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // Suites and whole parameterized functions pass through: each row is gated on its own.
        // Only the most restrictive kind among the test's traits gates, once.
        let effective = test.traits.compactMap { ($0 as? TestLoadTrait)?.load }.max() ?? load
        guard testCase != nil, !test.isSuite, load == effective else { return try await function() }
        try await TestLoadGate.shared.run(load, function)
    }
}

extension Trait where Self == TestLoadTrait {
    /// Runs the test under the process-wide gate for `load`.
    public static func load(_ load: TestLoad) -> Self { TestLoadTrait(load: load) }
}

/// The process-wide gate: one kind at a time, up to its limit; waiters of the kind inside join
/// it, others wait in arrival order until it has drained.
public actor TestLoadGate {
    public static let shared = TestLoadGate()

    private var inside: (load: TestLoad, count: Int)?
    private var queue: [(load: TestLoad, continuation: CheckedContinuation<Void, Never>)] = []

    /// Runs `body` once admitted for `load`.
    public func run(_ load: TestLoad, _ body: @Sendable () async throws -> Void) async throws {
        await withCheckedContinuation { continuation in
            queue.append((load, continuation))
            admit()
        }
        defer { leave() }
        try await body()
    }

    private func leave() {
        if let current = inside {
            inside = current.count > 1 ? (current.load, current.count - 1) : nil
        }
        admit()
    }

    /// Admits, in arrival order, every waiter of the kind inside (while under its limit); when
    /// nobody is inside, the first waiter's kind goes in.
    private func admit() {
        var index = 0
        while index < queue.count {
            let waiter = queue[index]
            let current = inside ?? (waiter.load, 0)
            guard current.load == waiter.load else {
                index += 1
                continue
            }
            guard current.count < waiter.load.limit else { return }
            inside = (waiter.load, current.count + 1)
            queue.remove(at: index)
            waiter.continuation.resume()
        }
    }
}
