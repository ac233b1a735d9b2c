import RedLock
import RedisIO

extension AdminSession {
    /// The jobs that are late as of `now` (Unix ms), from one read of every job (`jobStates`).
    /// Throws `JobControlError`.
    package func lateJobs(now: Int64) async throws -> [LateEvent] {
        try await jobStates().compactMap { LateEvent($0, now: now) }
    }

    /// Announces `late` once: on every master that has not recorded this lateness yet, records it
    /// under `claimant` and publishes the `late` event. Returns true for the one claimant that
    /// recorded it first on a majority (it notifies); false when it was announced before, or by
    /// another claimant (another dashboard). When no claimant holds a majority (a race with a
    /// master down), this one gives its claims back, to try again at its next check. Throws
    /// `JobControlError` without a majority's answer.
    package func announce(_ late: LateEvent, claimant: String) async throws -> Bool {
        let keys = late.keys
        let replies = try await script(JobScripts.claimLateness, keys: [keys.late], arguments: [late.identity, claimant, keys.events, late.payload])
        try requireMajority(replies, to: "announce that \(keys.name) is late")
        var claims: [String: Int] = [:]
        var claimedNow = 0
        for reply in replies {
            guard case .success(.array(let parts)) = reply.result, parts.count == 2, let owner = parts[0].text else { continue }
            claims[owner, default: 0] += 1
            if owner == claimant, case .integer(1) = parts[1] { claimedNow += 1 }
        }
        guard claims.values.contains(where: { $0 >= quorum }) else {
            _ = try? await script(JobScripts.releaseLateness, keys: [keys.late], arguments: [late.identity, claimant])
            return false
        }
        return claimedNow >= quorum
    }
}
