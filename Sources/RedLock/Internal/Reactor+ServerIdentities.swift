/// One server, one vote: the checks on what each server's handshake said about it.
extension Reactor {
    /// A server's handshake said who it is: finds again which addresses reach one server (kept in
    /// `duplicateServers`, so that rounds read it without comparing identities each time).
    func identityRead() {
        loopThread.preconditionOnLoopThread()
        duplicateServers = findDuplicateServers()
    }

    /// Two addresses that reach the same server and database, as a message naming both; nil when
    /// every identity known is distinct.
    private func findDuplicateServers() -> String? {
        for (position, slot) in slots.enumerated() {
            guard let identity = slot.identity else { continue }
            if let other = slots[..<position].first(where: { $0.identity.map(identity.isSameServer) ?? false }) {
                return "\(other.address) and \(slot.address) reach the same server (run_id \(identity.runID.prefix(12))…); "
                    + "a majority needs independent servers, so list each server once (one database per server)"
            }
        }
        return nil
    }

    /// Runs `body` once every server's current connection has said who it is (or has none): at
    /// once when that is so, else on a later turn of the loop. A connection that never answers is
    /// retired at its round's deadline, which settles it.
    func whenIdentitiesSettled(_ body: @escaping () -> Void) {
        loopThread.preconditionOnLoopThread()
        if slots.allSatisfy(\.identityIsSettled) { return body() }
        awaitingIdentities.append(body)
    }

    /// Called by the loop on every turn while something waits.
    func resumeAwaitingIdentities() {
        loopThread.preconditionOnLoopThread()
        guard slots.allSatisfy(\.identityIsSettled) else { return }
        let waiting = awaitingIdentities
        awaitingIdentities = []
        for body in waiting { body() }
    }
}
