import Synchronization

/// Runs `body` in a task of its own and returns its result, or `nil` when it has not returned
/// within `limit`. The task is then left behind: a hang must fail the test, not hang the run, so
/// the wait polls for the result rather than awaiting the task.
///
/// Only time in which `body` could have run counts. When this whole process stalls (other tests
/// keeping every thread of the cooperative pool busy), `body` cannot run either, so the limit is
/// extended by the stall instead of blaming `body` for it.
public func boundedResult<T: Sendable>(within limit: Duration,
                                       _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    let outcome = Outcome<T>()
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.result.withLock { $0 = result }
    }
    let turn = Duration.milliseconds(10)
    var deadline = ContinuousClock.now + limit
    var lastTurn = ContinuousClock.now
    while true {
        if let result = outcome.result.withLock({ $0 }) { return result }
        let now = ContinuousClock.now
        let stall = now - lastTurn - turn
        if stall > .milliseconds(100) { deadline += stall }
        guard now < deadline else { return nil }
        lastTurn = now
        try? await Task.sleep(for: turn)
    }
}

/// Where `boundedResult`'s task leaves its result.
private final class Outcome<T: Sendable>: Sendable {
    let result = Mutex<Result<T, any Error>?>(nil)
}
