import Synchronization

/// The per-server outcomes of one acquisition round, completed by answers that arrive after the
/// round was decided (see `Lock.acquisitionReports`). Written on the loop thread, read anywhere.
/// Equal only to itself, so that a `Lock` stays `Hashable`.
final class RoundReports: Sendable, Hashable {
    private struct State {
        var outcomes: [ServerOutcome]
        var complete = false
        var waiters: [CheckedContinuation<[ServerOutcome], Never>] = []
    }

    private let servers: [RedisServerAddress]
    private let state: Mutex<State>

    /// Outcomes on `servers` as the round was decided (`.notAwaited` for those not heard from yet).
    init(servers: [RedisServerAddress], decided outcomes: [ServerOutcome]) {
        self.servers = servers
        state = Mutex(State(outcomes: outcomes))
    }

    /// Final outcomes on `servers`.
    convenience init(servers: [RedisServerAddress], final outcomes: [ServerOutcome]) {
        self.init(servers: servers, decided: outcomes)
        complete(outcomes)
    }

    /// The reports known now.
    var reports: [ServerReport] { Self.reports(servers, state.withLock { $0.outcomes }) }

    /// Every server answered or timed out: `outcomes` are final.
    func complete(_ outcomes: [ServerOutcome]) {
        let waiters = state.withLock { state in
            state.outcomes = outcomes
            state.complete = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: outcomes) }
    }

    /// The final reports, once every server has answered or timed out (within the round's
    /// per-server timeout of its start).
    func final() async -> [ServerReport] {
        Self.reports(servers, await finalOutcomes())
    }

    private func finalOutcomes() async -> [ServerOutcome] {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> [ServerOutcome]? in
                guard state.complete else {
                    state.waiters.append(continuation)
                    return nil
                }
                return state.outcomes
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    private static func reports(_ servers: [RedisServerAddress], _ outcomes: [ServerOutcome]) -> [ServerReport] {
        zip(servers, outcomes).map { ServerReport(server: $0, outcome: $1) }
    }

    static func == (lhs: RoundReports, rhs: RoundReports) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
