extension AcquireRoundMachine {
    /// A decided round's result.
    enum Verdict: Hashable, Sendable {
        /// A majority granted: the lock is ours until `validUntil`.
        case grant(validUntil: ContinuousClock.Instant)
        /// The lock is not ours; `cleanUp` lists the servers our SET may have reached.
        case fail(Failure, cleanUp: [CleanUp])
    }

    /// Why a round did not get the lock.
    enum Failure: Hashable, Sendable {
        /// Two configured addresses reach one server (the message names both).
        case duplicateServers(String)
        /// A server's acquire script refused the lock; its reason.
        case refused(String)
        /// One other holder has the key on a majority.
        case heldElsewhere
        /// Enough servers voted, but nobody got a majority.
        case splitVote
        /// Fencing: `count` servers refused the proposal as not above their fence; the next round
        /// proposes above the fences they returned, at once.
        case fenceTooLow(count: Int)
        /// Another holder on `holder` servers plus `silent` that could not answer make a majority.
        case heldElsewhereWithSilent(holder: Int, silent: Int)
        /// `failed` of `servers` servers could not vote; `misconfigured` when bad credentials or
        /// non-Redis servers alone leave no majority (waiting will not fix that).
        case noQuorum(failed: Int, servers: Int, quorum: Int, misconfigured: Bool)
        /// A majority granted, but the round left less than the minimum validity (`left`).
        case validityTooShort(left: Duration, minimum: Duration)

        /// The error code a caller sees.
        var code: RedLockError.Code {
            switch self {
            case .duplicateServers: .invalidConfiguration
            case .refused: .refused
            case .heldElsewhere, .splitVote, .heldElsewhereWithSilent: .heldElsewhere
            case .noQuorum, .validityTooShort, .fenceTooLow: .noQuorum
            }
        }

        /// Whether the cause may pass by itself, so that a retry can help without waiting for
        /// another holder's release.
        var mayPass: Bool {
            switch self {
            case .duplicateServers, .refused, .heldElsewhere: false
            case .splitVote, .heldElsewhereWithSilent, .validityTooShort, .fenceTooLow: true
            case .noQuorum(_, _, _, let misconfigured): !misconfigured
            }
        }

        /// The error message.
        var message: String {
            switch self {
            case .duplicateServers(let message), .refused(let message): message
            case .heldElsewhere: "another holder has the lock on a majority of servers"
            case .splitVote: "votes split between contenders; nobody holds a majority"
            case .fenceTooLow(let count):
                "\(Self.servers(count)) refused the fencing proposal as not above their fence; the next round proposes above it"
            case .heldElsewhereWithSilent(let holder, let silent):
                "another holder has the lock on \(Self.servers(holder)) and \(Self.servers(silent)) could not answer"
            case .noQuorum(let failed, let servers, let quorum, _):
                "\(failed) of \(servers) servers failed, so no majority (\(quorum)) could grant the lock"
            case .validityTooShort(let left, let minimum):
                "the round left \(left > .zero ? "only \(Int64(left / .milliseconds(1))) ms of" : "no") validity, "
                    + "less than the minimum of \(minimum.millisecondsRoundedUp) ms; the lock was released"
            }
        }

        private static func servers(_ count: Int) -> String { count == 1 ? "1 server" : "\(count) servers" }
    }

    /// A token-checked release a failed round owes one server, on the connection its SET went
    /// out on (`pin`), so that it queues behind that SET. `awaited` is false for a server that
    /// timed out: the release is queued behind its SET and not waited for.
    struct CleanUp: Hashable, Sendable {
        var server: Int
        var pin: ConnectionID
        var awaited: Bool
    }

    /// The verdict of a decided round.
    ///
    /// - Parameters:
    ///   - plan: the TTL, drift, quorum and minimum validity.
    ///   - startedAt: when the round started (before its first write): validity counts from here.
    ///   - now: the time of the verdict, against which the minimum validity is checked.
    ///   - duplicateServers: set when two addresses reach one server (no grant counts then).
    ///   - pins: per server, the connection the SET went out on (nil: never sent).
    ///   - answer: `answer(server)` is that server's answer (nil: not heard from yet).
    func verdict(plan: RoundPlan, startedAt: ContinuousClock.Instant, now: ContinuousClock.Instant,
                 duplicateServers: String?, pins: [ConnectionID?], answer: (_ server: Int) -> Answer?) -> Verdict {
        func fail(_ failure: Failure) -> Verdict { .fail(failure, cleanUp: cleanUp(pins, answer)) }
        if let duplicateServers { return fail(.duplicateServers(duplicateServers)) }
        var granted = 0, voted = 0, silent = 0, misconfigured = 0, lowProposals = 0
        var refusal: String?
        for server in 0..<servers {
            switch answer(server) {
            case .granted: granted += 1; voted += 1
            case .heldBy: voted += 1
            case .refused(let reason): refusal = refusal ?? reason ?? "a server refused the lock"
            case .fenceTooLow: lowProposals += 1
            case .voteWithheld: silent += 1
            case .failed(let outcome):
                if outcome.isFailure { silent += 1 }
                if outcome.kind == .authFailed || outcome.kind == .protocolError { misconfigured += 1 }
            case nil: break
            }
        }
        if granted >= quorum {
            let validUntil = startedAt + plan.ttl - plan.drift
            if let shortfall = Self.validityShortfall(of: validUntil, plan: plan, now: now) { return fail(shortfall) }
            return .grant(validUntil: validUntil)
        }
        if let refusal { return fail(.refused(refusal)) }
        let largestOtherHolder = largestOtherHolder(answer)
        if largestOtherHolder >= quorum { return fail(.heldElsewhere) }
        if lowProposals > 0 { return fail(.fenceTooLow(count: lowProposals)) }
        if voted >= quorum { return fail(.splitVote) }
        // Another holder plus the servers that could not answer may make a majority: with a
        // minority of servers down, the lock is most likely held elsewhere, not unavailable.
        // With a majority down it is unavailable, whoever the rest name.
        if largestOtherHolder > 0, silent < quorum, largestOtherHolder + silent >= quorum {
            return fail(.heldElsewhereWithSilent(holder: largestOtherHolder, silent: silent))
        }
        // Wrong credentials or a server that is not Redis will not fix themselves.
        return fail(.noQuorum(failed: silent, servers: servers, quorum: quorum, misconfigured: misconfigured > servers - quorum))
    }

    /// The most servers any one other holder was seen on (without building a dictionary: N is small).
    private func largestOtherHolder(_ answer: (_ server: Int) -> Answer?) -> Int {
        var largest = 0
        for server in 0..<servers {
            guard case .heldBy(let holder) = answer(server) else { continue }
            largest = max(largest, (server..<servers).count { answer($0) == .heldBy(holder) })
        }
        return largest
    }

    /// The servers a failed round may have written to: every server the SET went out on, except
    /// those that named another holder, refused, or found the fencing proposal too low (nothing
    /// was written there).
    private func cleanUp(_ pins: [ConnectionID?], _ answer: (_ server: Int) -> Answer?) -> [CleanUp] {
        var cleanUp: [CleanUp] = []
        for (server, pin) in pins.enumerated() {
            guard let pin else { continue }
            switch answer(server) {
            case .heldBy, .refused, .fenceTooLow: continue
            case .failed(let outcome) where outcome.kind == .timedOut: cleanUp.append(CleanUp(server: server, pin: pin, awaited: false))
            default: cleanUp.append(CleanUp(server: server, pin: pin, awaited: true))
            }
        }
        return cleanUp
    }

    /// The rule for a grant's validity, applied when the round is decided and again when the caller
    /// gets the lock (it resumes on another thread, which a loaded machine can delay): nil when
    /// the lock ending at `validUntil` leaves at least the plan's minimum validity at `now`.
    static func validityShortfall(of validUntil: ContinuousClock.Instant, plan: RoundPlan, now: ContinuousClock.Instant) -> Failure? {
        let left = validUntil - now
        return left >= plan.minimumValidity ? nil : .validityTooShort(left: left, minimum: plan.minimumValidity)
    }
}
