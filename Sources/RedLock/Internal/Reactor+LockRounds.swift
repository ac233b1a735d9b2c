import RedisIO
/// The rounds of the Redlock algorithm as they run on the event loop: one parallel command to every
/// server, decided by majority, and the clean-up that a failed acquisition owes every server.
extension Reactor {
    /// What one acquisition round found.
    struct AcquireRound: Sendable {
        var verdict: AcquireRoundMachine.Verdict
        var outcomes: [ServerOutcome]
        var pins: [ConnectionID?]
        /// The fences that servers returned with their refusals (fencing on).
        var fences: [UInt64]
        /// `outcomes`, completed by the answers that come after the round was decided.
        var reports: RoundReports
        var shutDown: Bool
    }

    /// What a release, extend or read round found on each server.
    struct PlainRound: Sendable {
        var outcomes: [ServerOutcome]
        var pins: [ConnectionID?]
        var replies: [RedisReply?]
        /// Two configured addresses reach one server (their answers are not two votes).
        var duplicateServers: String?
        var shutDown: Bool
    }

    /// `command` (`SET key token NX PX ttl GET` or an extension's script) on every server, judged
    /// by an `AcquireRoundMachine`. A failed round then sends `cleanup()` (a token-checked release)
    /// to the servers the verdict names, each queued on the command's own connection so it can
    /// never overtake it, before `completion` runs.
    func acquire(_ plan: RoundPlan, startedAt: ContinuousClock.Instant, command: RedisCommand, cleanup: @escaping () -> RedisCommand,
                 completion: @escaping (AcquireRound) -> Void) {
        loopThread.preconditionOnLoopThread()
        let targets = slots.indices.map { FanOut.Target(server: $0, command: command) }
        var machine = AcquireRoundMachine(servers: slots.count, quorum: plan.quorum)
        let judge: (Int, FanOut.Answer) -> Bool = { [unowned self] server, answer in
            machine.received(AcquireRoundMachine.Answer(answer, withheld: slots[server].withheldVote(at: .now, window: plan.restartWindow, fencing: plan.fencing))) != .wait
        }
        FanOut(targets, policy: .judged(judge), timeout: plan.serverTimeout, lingerFor: plan.ttl, reactor: self) { [unowned self] fanOut in
            // A grant waits until every server has said who it is, so that one server under two
            // addresses is caught before it counts twice.
            whenIdentitiesSettled { [unowned self] in
                let now = ContinuousClock.now
                let verdict = machine.verdict(plan: plan, startedAt: startedAt, now: now, duplicateServers: duplicateServers,
                                              pins: fanOut.connectionIDs) { acquireAnswer(fanOut, $0, plan: plan, at: now) }
                let outcomes = machine.outcomes { acquireAnswer(fanOut, $0, plan: plan, at: now) }
                let fences = fanOut.answers.compactMap { answer in answer?.value.flatMap { FencedAcquireReply($0).fence } }
                let round = AcquireRound(verdict: verdict, outcomes: outcomes, pins: fanOut.connectionIDs, fences: fences,
                                         reports: RoundReports(servers: addresses, decided: outcomes), shutDown: isShutDown)
                // Every server may have answered or timed out while the grant waited for identities.
                if fanOut.isComplete {
                    round.reports.complete(outcomes)
                } else {
                    fanOut.onCompleted = { [unowned self] fanOut in
                        let now = ContinuousClock.now
                        round.reports.complete(machine.outcomes { acquireAnswer(fanOut, $0, plan: plan, at: now) })
                    }
                }
                guard case .fail(_, let cleanUp) = verdict, !cleanUp.isEmpty else { return completion(round) }
                releaseAfterFailedAcquire(cleanup(), cleanUp: cleanUp, plan: plan) { completion(round) }
            }
        }.start()
    }

    /// `server`'s answer as the machine reads it (nil: not heard from yet): a grant from a server
    /// that restarted recently without persistence is a withheld vote.
    private func acquireAnswer(_ fanOut: FanOut, _ server: Int, plan: RoundPlan, at now: ContinuousClock.Instant) -> AcquireRoundMachine.Answer? {
        fanOut.answers[server].map { AcquireRoundMachine.Answer($0, withheld: slots[server].withheldVote(at: now, window: plan.restartWindow, fencing: plan.fencing)) }
    }

    /// Sends a failed round's clean-up: servers that already timed out get the release queued
    /// behind their SET and are not waited for; the others are awaited (bounded by the per-server
    /// timeout) so no key of ours is left when the caller hears of the failure.
    private func releaseAfterFailedAcquire(_ command: RedisCommand, cleanUp: [AcquireRoundMachine.CleanUp], plan: RoundPlan,
                                           then done: @escaping () -> Void) {
        var unawaitedBytes: [UInt8]?  // encoded once, for the first server that timed out
        var awaited: [FanOut.Target] = []
        for target in cleanUp {
            if target.awaited {
                awaited.append(FanOut.Target(server: target.server, command: command, pinned: target.pin))
            } else {
                let bytes = unawaitedBytes ?? command.bytesNeedingNoFollowUp
                unawaitedBytes = bytes
                queueWithoutWaiting(bytes, server: target.server, pinned: target.pin)
            }
        }
        FanOut(awaited, policy: .allResponsive(needing: 0), timeout: plan.serverTimeout, lingerFor: plan.ttl, reactor: self) { _ in done() }.start()
    }

    private func queueWithoutWaiting(_ bytes: [UInt8], server: Int, pinned: ConnectionID) {
        guard case .success(let connection) = slots[server].connection(pinned: pinned, reactor: self) else { return }
        connection.append(bytes) { _ in }
        slots[server].flush(connection)
    }

    /// When a token-checked script's round is decided.
    enum ScriptWait {
        /// At the first majority either way (confirmed, or no longer possible): an extension.
        case majority
        /// Once every responsive server answered (see `FanOut.Policy.allResponsive`): a release.
        case allResponsive
    }

    /// A token-checked script (release or extend) on every server, each on the lock's own
    /// connection when it is still open. `wait` decides when the caller hears back.
    func runScript(_ command: RedisCommand, plan: RoundPlan, pins: [ConnectionID?], wait: ScriptWait,
                   completion: @escaping (PlainRound) -> Void) {
        loopThread.preconditionOnLoopThread()
        let policy: FanOut.Policy
        switch wait {
        case .majority:
            var tally = QuorumTally(servers: slots.count, quorum: plan.quorum)
            policy = .judged { _, answer in tally.count(yes: answer == .success(.integer(1))) }
        case .allResponsive:
            policy = .allResponsive(needing: plan.quorum)
        }
        run(slots.indices.map { FanOut.Target(server: $0, command: command, pinned: pins[$0]) },
            plan: plan, policy: policy, isSuccess: { $0 == .integer(1) }, outcome: Self.scriptOutcome, completion: completion)
    }

    /// Any command on every server, waiting for all (used to read state, e.g. for status).
    func runOnAll(_ command: RedisCommand, plan: RoundPlan, completion: @escaping (PlainRound) -> Void) {
        loopThread.preconditionOnLoopThread()
        run(slots.indices.map { FanOut.Target(server: $0, command: command) },
            plan: plan, policy: .all, outcome: Self.readOutcome, completion: completion)
    }

    private func run(_ targets: [FanOut.Target], plan: RoundPlan, policy: FanOut.Policy,
                     isSuccess: @escaping (RedisReply) -> Bool = { _ in true }, outcome: @escaping (FanOut.Answer?) -> ServerOutcome,
                     completion: @escaping (PlainRound) -> Void) {
        FanOut(targets, policy: policy, timeout: plan.serverTimeout, lingerFor: plan.ttl, reactor: self,
               isSuccess: isSuccess) { [unowned self] fanOut in
            completion(PlainRound(
                outcomes: fanOut.reportedAnswers.map(outcome), pins: fanOut.connectionIDs,
                replies: fanOut.answers.map { $0?.value }, duplicateServers: duplicateServers, shutDown: isShutDown))
        }.start()
    }

    // MARK: Reading replies

    private static func scriptOutcome(_ answer: FanOut.Answer?) -> ServerOutcome {
        switch answer {
        case nil: ServerOutcome(.notAwaited)
        case .success(.integer(1)): ServerOutcome(.granted)
        case .success(.integer(0)): ServerOutcome(.notHeld)
        case .success(let reply): ServerOutcome(unexpected: reply)
        case .failure(let outcome): outcome
        }
    }

    /// For reads, any reply that is not an error counts as answered (`granted`).
    private static func readOutcome(_ answer: FanOut.Answer?) -> ServerOutcome {
        switch answer {
        case nil: ServerOutcome(.notAwaited)
        case .success(.error(let line)): ServerOutcome(unexpected: .error(line))
        case .success: ServerOutcome(.granted)
        case .failure(let outcome): outcome
        }
    }
}
