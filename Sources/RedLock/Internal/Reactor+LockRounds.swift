/// The rounds of the Redlock algorithm as they run on the event loop: one parallel command to every
/// server, decided by majority, and the clean-up that a failed acquisition owes every server.
extension Reactor {
    /// What one acquisition round found.
    struct AcquireRound: Sendable {
        var outcomes: [ServerOutcome]
        var pins: [ConnectionID?]
        /// A majority granted the key to us.
        var granted: Bool
        /// One other holder has the key on a majority.
        var heldByMajorityElsewhere: Bool
        /// The most servers any one other holder was seen on.
        var largestOtherHolder: Int
        /// Why a server's acquire script refused the lock, if one did.
        var refusal: String?
        /// `outcomes`, completed by the answers that come after the round was decided.
        var reports: RoundReports
        /// Two configured addresses reach one server: the lock is not granted, whatever the votes.
        var duplicateServers: String?
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

        func count(_ kind: ServerOutcome.Kind) -> Int { outcomes.count { $0.kind == kind } }
    }

    /// `command` (`SET key token NX PX ttl GET` or an extension's script) on every server. Decided
    /// at the first majority either way; a failed round then sends `cleanup()` (a token-checked
    /// release) to every server the command was written to, each queued on the command's own
    /// connection so it can never overtake it, before `completion` runs.
    func acquire(_ plan: RoundPlan, command: RedisCommand, cleanup: @escaping () -> RedisCommand,
                 completion: @escaping (AcquireRound) -> Void) {
        let targets = slots.indices.map { FanOut.Target(server: $0, command: command) }
        let quorum = plan.quorum
        let round = FanOut(targets, policy: .quorum(quorum), timeout: plan.serverTimeout, lingerFor: plan.ttl, reactor: self,
                           isSuccess: { [unowned self] server, reply in
                               reply == .null && slots[server].withheldVote(at: .now, window: plan.restartWindow) == nil
                           }) { [unowned self] fanOut in
            // A grant waits until every server has said who it is, so that one server under two
            // addresses is caught before it counts twice.
            whenIdentitiesSettled { [unowned self] in
                let result = acquireVerdict(fanOut, plan: plan)
                fanOut.onCompleted = { [unowned self] fanOut in
                    result.reports.complete(acquireOutcomes(fanOut.answers, plan: plan, at: .now))
                }
                guard !result.granted else { return completion(result) }
                releaseAfterFailedAcquire(cleanup, plan: plan, fanOut: fanOut, outcomes: result.outcomes) { completion(result) }
            }
        }
        round.start()
    }

    /// Judges a decided acquisition round: each server's outcome (a grant from a recently
    /// restarted server without persistence is `voteWithheld`), and whether a majority granted.
    private func acquireVerdict(_ fanOut: FanOut, plan: RoundPlan) -> AcquireRound {
        let outcomes = acquireOutcomes(fanOut.answers, plan: plan, at: .now)
        let holders = fanOut.answers.compactMap { answer -> String? in
            if case .success(.bulk(let holder)) = answer { return holder } else { return nil }
        }
        let largestOtherHolder = Dictionary(holders.map { ($0, 1) }, uniquingKeysWith: +).values.max() ?? 0
        let duplicateServers = self.duplicateServers
        return AcquireRound(
            outcomes: outcomes, pins: fanOut.connectionIDs,
            granted: duplicateServers == nil && outcomes.count { $0.kind == .granted } >= plan.quorum,
            heldByMajorityElsewhere: largestOtherHolder >= plan.quorum, largestOtherHolder: largestOtherHolder,
            refusal: outcomes.first { $0.kind == .refused }?.detail, reports: RoundReports(servers: slots.map(\.address), decided: outcomes),
            duplicateServers: duplicateServers, shutDown: isShutDown)
    }

    /// Each server's answer to an acquisition; a grant from a server that restarted recently
    /// without persistence is `voteWithheld`.
    private func acquireOutcomes(_ answers: [FanOut.Answer?], plan: RoundPlan, at now: ContinuousClock.Instant) -> [ServerOutcome] {
        answers.enumerated().map { server, answer in
            let outcome = Self.acquireOutcome(answer)
            guard outcome.kind == .granted, let reason = slots[server].withheldVote(at: now, window: plan.restartWindow) else { return outcome }
            return ServerOutcome(.voteWithheld, detail: reason)
        }
    }

    /// Releases a failed round's key everywhere its SET may have taken it: every server it was
    /// written to, except those that answered with another holder's value or a refusal (nothing
    /// was written there; most failed rounds under contention are all such answers, and need no
    /// second round trip). Servers that already timed out get the release queued behind their SET
    /// and are not waited for; the others are awaited (bounded by the per-server timeout) so no
    /// key of ours is left when the caller hears of the failure.
    private func releaseAfterFailedAcquire(_ cleanup: () -> RedisCommand, plan: RoundPlan, fanOut: FanOut, outcomes: [ServerOutcome],
                                           then done: @escaping () -> Void) {
        let written = fanOut.connectionIDs.enumerated().compactMap { server, pin -> (server: Int, pin: ConnectionID)? in
            guard let pin, outcomes[server].kind != .heldByAnother, outcomes[server].kind != .refused else { return nil }
            return (server, pin)
        }
        guard !written.isEmpty else { return done() }
        let command = cleanup()
        var unawaitedBytes: [UInt8]?  // encoded once, for the first server that timed out
        var awaited: [FanOut.Target] = []
        for (server, pin) in written {
            if outcomes[server].kind == .timedOut {
                let bytes = unawaitedBytes ?? command.bytesNeedingNoFollowUp
                unawaitedBytes = bytes
                queueWithoutWaiting(bytes, server: server, pinned: pin)
            } else {
                awaited.append(FanOut.Target(server: server, command: command, pinned: pin))
            }
        }
        FanOut(awaited, policy: .allResponsive(needing: 0), timeout: plan.serverTimeout, lingerFor: plan.ttl, reactor: self,
               isSuccess: { _, _ in true }) { _ in done() }.start()
    }

    private func queueWithoutWaiting(_ bytes: [UInt8], server: Int, pinned: ConnectionID) {
        guard case .success(let connection) = slots[server].connection(pinned: pinned, reactor: self) else { return }
        connection.append(bytes) { _ in }
        slots[server].flush(connection)
    }

    /// A token-checked script (release or extend) on every server, each on the lock's own
    /// connection when it is still open. `policy` decides when the caller hears back.
    func runScript(_ command: RedisCommand, plan: RoundPlan, pins: [ConnectionID?], policy: FanOut.Policy,
                   completion: @escaping (PlainRound) -> Void) {
        run(slots.indices.map { FanOut.Target(server: $0, command: command, pinned: pins[$0]) },
            plan: plan, policy: policy, isSuccess: { $1 == .integer(1) }, outcome: Self.scriptOutcome, completion: completion)
    }

    /// Any command on every server, waiting for all (used to read state, e.g. for status).
    func runOnAll(_ command: RedisCommand, plan: RoundPlan, completion: @escaping (PlainRound) -> Void) {
        run(slots.indices.map { FanOut.Target(server: $0, command: command) },
            plan: plan, policy: .all, isSuccess: { _, _ in true }, outcome: Self.readOutcome, completion: completion)
    }

    private func run(_ targets: [FanOut.Target], plan: RoundPlan, policy: FanOut.Policy,
                     isSuccess: @escaping (_ server: Int, RedisReply) -> Bool, outcome: @escaping (FanOut.Answer?) -> ServerOutcome,
                     completion: @escaping (PlainRound) -> Void) {
        FanOut(targets, policy: policy, timeout: plan.serverTimeout, lingerFor: plan.ttl, reactor: self,
               isSuccess: isSuccess) { [unowned self] fanOut in
            completion(PlainRound(
                outcomes: fanOut.reportedAnswers.map(outcome), pins: fanOut.connectionIDs,
                replies: fanOut.answers.map { try? $0?.get() }, duplicateServers: duplicateServers, shutDown: isShutDown))
        }.start()
    }

    // MARK: Reading replies

    private static func acquireOutcome(_ answer: FanOut.Answer?) -> ServerOutcome {
        switch answer {
        case nil: ServerOutcome(.notAwaited)
        case .success(.null): ServerOutcome(.granted)
        case .success(.bulk): ServerOutcome(.heldByAnother)
        case .success(.array(let parts)) where parts.first == .bulk("refused"):
            ServerOutcome(.refused, detail: parts.dropFirst().first.flatMap { if case .bulk(let reason) = $0 { reason } else { nil } })
        case .success(let reply): outcome(ofUnexpected: reply)
        case .failure(let outcome): outcome
        }
    }

    private static func scriptOutcome(_ answer: FanOut.Answer?) -> ServerOutcome {
        switch answer {
        case nil: ServerOutcome(.notAwaited)
        case .success(.integer(1)): ServerOutcome(.granted)
        case .success(.integer(0)): ServerOutcome(.notHeld)
        case .success(let reply): outcome(ofUnexpected: reply)
        case .failure(let outcome): outcome
        }
    }

    /// For reads, any reply that is not an error counts as answered (`granted`).
    private static func readOutcome(_ answer: FanOut.Answer?) -> ServerOutcome {
        switch answer {
        case nil: ServerOutcome(.notAwaited)
        case .success(.error(let line)): outcome(ofUnexpected: .error(line))
        case .success: ServerOutcome(.granted)
        case .failure(let outcome): outcome
        }
    }

    private static func outcome(ofUnexpected reply: RedisReply) -> ServerOutcome {
        guard case .error(let line) = reply else {
            return ServerOutcome(.protocolError, detail: "unexpected reply \(reply)")
        }
        // Redis refuses long commands from a client that has not authenticated before it even
        // parses them ("unauthenticated multibulk length"): it wants a password.
        if line.contains("unauthenticated") {
            return ServerOutcome(.authFailed, detail: "NOAUTH (\(line))")
        }
        let isAuthentication = line.hasPrefix("NOAUTH") || line.hasPrefix("WRONGPASS")
        return ServerOutcome(isAuthentication ? .authFailed : .serverError, detail: line)
    }
}
