/// Waiting for another holder's release: between rounds, a waiting `acquire` sleeps until the
/// retry delay passes or a server announces that the key was released, whichever comes first
/// (see `RedLockConfiguration.notifiesWaitersOnRelease` and `ReleaseWatches`).
extension RedLockClient {
    /// Starts listening for releases of `key`, for the rest of one `acquire` call.
    func startWatching(_ key: String) -> ReleaseWatches.ID {
        let id = lastWatchID.add(1, ordering: .relaxed).newValue
        let channel = LockScripts.releaseChannel(for: key)
        // Jobs run in order: a later wake-up or wait always finds the watch.
        loop.execute { reactor in reactor.releaseWatches.start(id, channel: channel, reactor: reactor) }
        return id
    }

    /// Returns after `delay`, or sooner when a release is announced or the task is cancelled.
    func waitForRelease(_ watch: ReleaseWatches.ID, upTo delay: Duration) async throws(RedLockError) {
        let deadline = ContinuousClock.now + delay
        let ended: Result<Void, RedLockError> = await withTaskCancellationHandler {
            do throws(RedLockError) {
                return .success(try await onLoop { reactor, done in
                    reactor.releaseWatches.wait(watch, until: deadline, reactor: reactor) { done(()) }
                })
            } catch {
                return .failure(error)
            }
        } onCancel: {
            loop.execute { reactor in reactor.releaseWatches.wake(watch) }
        }
        try ended.get()
    }

    func stopWatching(_ watch: ReleaseWatches.ID) {
        loop.execute { reactor in reactor.releaseWatches.end(watch, reactor: reactor) }
    }
}
