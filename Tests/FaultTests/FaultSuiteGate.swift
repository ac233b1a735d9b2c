/// Lets the safety check run alone in this test process: it counts the process's file
/// descriptors and threads before and after, which tests running beside it would disturb. Other
/// fault tests share the gate with each other and run in parallel, at most `sharedLimit` at once
/// (each starts five servers; two cores should not time fifty tests at a time).
actor FaultSuiteGate {
    static let shared = FaultSuiteGate()

    static let sharedLimit = 2
    private var readers = 0
    private var writer = false
    private var queue: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Runs `body` with no other gated test running.
    static func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await shared.enter(exclusive: true)
        do {
            let value = try await body()
            await shared.leave(exclusive: true)
            return value
        } catch {
            await shared.leave(exclusive: true)
            throw error
        }
    }

    /// Runs `body` beside other shared holders, never beside an exclusive one.
    static func shared<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await shared.enter(exclusive: false)
        do {
            let value = try await body()
            await shared.leave(exclusive: false)
            return value
        } catch {
            await shared.leave(exclusive: false)
            throw error
        }
    }

    private func enter(exclusive: Bool) async {
        await withCheckedContinuation { continuation in
            queue.append((exclusive, continuation))
            admit()
        }
    }

    private func leave(exclusive: Bool) {
        if exclusive { writer = false } else { readers -= 1 }
        admit()
    }

    /// Admits waiters in arrival order: an exclusive one when nobody is inside, shared ones while
    /// no exclusive one is inside or ahead of them.
    private func admit() {
        while let next = queue.first {
            if next.exclusive {
                guard !writer, readers == 0 else { return }
                writer = true
            } else {
                guard !writer, readers < Self.sharedLimit else { return }
                readers += 1
            }
            queue.removeFirst()
            next.continuation.resume()
        }
    }
}
