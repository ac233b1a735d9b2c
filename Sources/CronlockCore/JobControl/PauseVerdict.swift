import RedLock

/// What a run refused by a pause does: a pause counts only when a majority of the masters hold it,
/// so that a pause left on a minority never turns an outage (no quorum, 69) into a silent skip.
enum PauseVerdict: Equatable {
    /// A majority of the servers refused: the job is paused (skip, exit 0).
    case paused
    /// A majority named another holder: skip as held elsewhere.
    case heldElsewhere
    /// Neither: too few servers could grant the lock or confirm the pause (exit 69).
    case noQuorum

    /// The verdict for a round that some server's pause refused (`RedLockError.Code.refused`),
    /// from what each server of the round answered.
    init(_ servers: [ServerReport]) {
        let quorum = RedLockClient.quorum(of: servers.count)
        if servers.count(where: { $0.outcome.kind == .refused }) >= quorum {
            self = .paused
        } else if servers.count(where: { $0.outcome.kind == .heldByAnother }) >= quorum {
            self = .heldElsewhere
        } else {
            self = .noQuorum
        }
    }

    /// The error a `.noQuorum` verdict reports: which servers hold the pause and which failed.
    static func noQuorumError(_ refusal: RedLockError) -> RedLockError {
        let refused = refusal.servers.count { $0.outcome.kind == .refused }
        return RedLockError(.noQuorum, "only \(refused) of \(refusal.servers.count) servers hold a pause (\(refusal.message)), "
                                + "not a majority, and no majority could grant the lock",
                            resource: refusal.resource, servers: refusal.servers)
    }
}
