/// Callers of a waiting `acquire` and the release notices the servers push to them (see
/// `RedLockConfiguration.notifiesWaitersOnRelease`). Confined to the loop thread (asserted on entry).
///
/// A watch lives for one `acquire` call, from its first failed round to its end. Between rounds the
/// caller waits on it for up to its retry delay, and a notice ends that wait early. Each release is
/// announced once per server with the same digest; one release wakes at most one waiter of this
/// client: the one watching longest. Waking every local waiter would only have them race each
/// other for one free key, and the oldest going first keeps a client's waiters roughly first come,
/// first served.
///
/// Across clients the same holds: with K clients waiting, a release that woke them all would start
/// K rounds for one free key, and at K = 32 on two cores that storm cut acquisitions per second to
/// a tenth of plain polling (Benchmarks/compare). So each client answers a notice only with
/// probability `ReleaseNoticeFilter.answeringClients` / K (K as the announcing server counted its subscribers), and a
/// release starts about two rounds whatever K is; the others keep polling.
final class ReleaseWatches {
    typealias ID = UInt64

    private struct Watch {
        let channel: String
        /// Set by a notice that came while the caller was between waits (mid-round): its next wait
        /// returns at once.
        var pending = false
        /// Whether a server has confirmed the channel's subscription since this watch started.
        var subscriptionConfirmed = false
        var waiter: (() -> Void)?
    }

    private var watches: [ID: Watch] = [:]
    /// When each wait in progress ends, apart from the watches: the loop reads these on every turn.
    private var waitDeadlines: [ID: ContinuousClock.Instant] = [:]
    /// Per channel, its watches oldest first.
    private var watchers: [String: [ID]] = [:]
    /// Which notices to act on (each release once, 2/K of the time).
    private var noticeFilter = ReleaseNoticeFilter()
    private var random = SystemRandomNumberGenerator()
    private let loopThread = LoopThread()

    /// Starts watching `channel`, subscribing to it on every server that is not yet. Does nothing
    /// once the client is shut down (a start queued behind the shutdown): the caller's next wait
    /// then finds no watch and returns at once.
    func start(_ id: ID, channel: String, reactor: Reactor) {
        loopThread.preconditionOnLoopThread()
        guard !reactor.isShutDown else { return }
        watches[id] = Watch(channel: channel)
        watchers[channel, default: []].append(id)
        subscribeEverywhere(channel, reactor: reactor)
    }

    /// Calls `done` at the first notice for the watch, or at `deadline`; at once when a notice came
    /// since the last wait. Renews subscriptions lost to a server's failure.
    func wait(_ id: ID, until deadline: ContinuousClock.Instant, reactor: Reactor, done: @escaping () -> Void) {
        loopThread.preconditionOnLoopThread()
        guard var watch = watches[id], !watch.pending else {
            watches[id]?.pending = false
            return done()
        }
        watch.waiter = done
        waitDeadlines[id] = deadline
        watches[id] = watch
        subscribeEverywhere(watch.channel, reactor: reactor)
    }

    /// Ends the watch's wait now (the caller was cancelled), or its next one if it is not waiting.
    func wake(_ id: ID) {
        loopThread.preconditionOnLoopThread()
        guard watches[id] != nil else { return }
        if !fire(id) { watches[id]?.pending = true }
    }

    /// Forgets the watch, unsubscribing from its channel when nobody else watches it.
    func end(_ id: ID, reactor: Reactor) {
        loopThread.preconditionOnLoopThread()
        guard let watch = watches.removeValue(forKey: id) else { return }
        waitDeadlines[id] = nil
        watch.waiter?()
        watchers[watch.channel]?.removeAll { $0 == id }
        guard watchers[watch.channel]?.isEmpty ?? false else { return }
        watchers[watch.channel] = nil
        noticeFilter.forget(watch.channel)
        for slot in reactor.slots { slot.unsubscribe(watch.channel) }
    }

    // MARK: What the servers say

    /// A server confirmed a subscription: each watch that has not heard one since it started retries
    /// once, since the key may have been released between its last round and the subscription.
    func subscribed(to channel: String) {
        loopThread.preconditionOnLoopThread()
        for id in watchers[channel] ?? [] where watches[id]?.subscriptionConfirmed == false {
            watches[id]?.subscriptionConfirmed = true
            wake(id)
        }
    }

    /// A release was announced on `channel` as "<digest> <listening clients>": unless this client
    /// sits this one out (see the type's note), wakes the longest-waiting watch, or marks the oldest
    /// pending when none is waiting (all are mid-round).
    func announced(on channel: String, payload: String) {
        loopThread.preconditionOnLoopThread()
        guard let ids = watchers[channel], !ids.isEmpty, noticeFilter.answers(payload, on: channel, using: &random) else { return }
        if let waiting = ids.first(where: { watches[$0]?.waiter != nil }) {
            fire(waiting)
        } else {
            watches[ids[0]]?.pending = true
        }
    }

    // MARK: Time

    /// The nearest end of a wait, for the poll timeout.
    var nearestDeadline: ContinuousClock.Instant? {
        waitDeadlines.values.min()
    }

    /// Ends the waits whose deadline has passed.
    func expireDue(now: ContinuousClock.Instant) {
        loopThread.preconditionOnLoopThread()
        for (id, deadline) in waitDeadlines where deadline <= now {
            fire(id)
        }
    }

    /// Ends every wait (the client is shutting down).
    func shutDown() {
        loopThread.preconditionOnLoopThread()
        for id in Array(watches.keys) { fire(id) }
        watches = [:]
        waitDeadlines = [:]
        watchers = [:]
    }

    /// Ends the watch's wait if it is waiting. Returns whether it was.
    @discardableResult
    private func fire(_ id: ID) -> Bool {
        guard let waiter = watches[id]?.waiter else { return false }
        watches[id]?.waiter = nil
        waitDeadlines[id] = nil
        waiter()
        return true
    }

    private func subscribeEverywhere(_ channel: String, reactor: Reactor) {
        for slot in reactor.slots { slot.subscribe(channel, reactor: reactor) }
    }
}
