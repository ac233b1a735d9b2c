import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated thread that owns every hiredis connection of one client and drives them all with
/// one `poll()`; callers hand it jobs and wait on continuations, so nothing blocks Swift's
/// cooperative pool. A round costs two thread hops (hand-over and resume), whatever N is.
final class EventLoop: Sendable {
    typealias Job = @Sendable (Reactor) -> Void

    private struct Inbox {
        var jobs: [Job] = []
        var stopping = false
        var stopped = false
        /// True while the loop is (about to be) blocked in `poll`, so a submitter must wake it.
        var sleeping = false
        var onStopped: [@Sendable () -> Void] = []
    }

    private let inbox = PthreadLock(Inbox())
    private let wakeReader: Int32
    private let wakeWriter: Int32

    /// Starts the loop thread; `makeReactor` builds the loop-confined state on that thread.
    init(makeReactor: @escaping @Sendable (EventLoop) -> Reactor) throws(RedLockError) {
        var ends: [Int32] = [-1, -1]
        guard Self.makeWakePipe(&ends) == 0 else {
            throw RedLockError(.invalidConfiguration, "cannot create the event loop's wake-up pipe: \(String(cString: strerror(errno)))")
        }
        wakeReader = ends[0]
        wakeWriter = ends[1]
        let started = DetachedThread.start { [self] in
            run(makeReactor(self))
        }
        guard started else {
            inbox.withLock { $0.stopped = true }
            throw RedLockError(.invalidConfiguration, "cannot start the event loop thread")
        }
    }

    /// Both ends close only when no submitter can write any more (the loop thread and every caller
    /// hold a reference until they are done), so a late wake-up never writes to a closed pipe.
    deinit {
        close(wakeReader)
        close(wakeWriter)
    }

    /// A non-blocking, close-on-exec pipe. (`pipe2` would set both atomically but is not
    /// visible to Swift without `_GNU_SOURCE`; processes that spawn children while a client starts
    /// should close inherited descriptors in the child, as cronlock does.)
    private static func makeWakePipe(_ ends: inout [Int32]) -> Int32 {
        guard pipe(&ends) == 0 else { return -1 }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        return 0
    }

    /// Runs `job` on the loop thread. Returns false (and drops the job) once the loop has stopped.
    @discardableResult
    func execute(_ job: @escaping Job) -> Bool {
        let (accepted, mustWake) = inbox.withLock { inbox -> (Bool, Bool) in
            guard !inbox.stopped else { return (false, false) }
            inbox.jobs.append(job)
            let wake = inbox.sleeping
            inbox.sleeping = false
            return (true, wake)
        }
        if mustWake { wake() }
        return accepted
    }

    /// True once the loop thread has closed everything and is exiting.
    var hasStopped: Bool { inbox.withLock { $0.stopped } }

    /// Asks the loop to stop: it closes every connection, fails what waits on them, and then calls
    /// `whenStopped` (at once when it has already stopped).
    func shutdown(whenStopped: (@Sendable () -> Void)? = nil) {
        let alreadyStopped = inbox.withLock { inbox -> Bool in
            if !inbox.stopped, let whenStopped { inbox.onStopped.append(whenStopped) }
            inbox.stopping = true
            return inbox.stopped
        }
        if alreadyStopped { whenStopped?() } else { wake() }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    // MARK: The loop thread

    private func run(_ reactor: Reactor) {
        blockSignalsOnThisThread()
        chiredis_name_current_thread("redlock-io")
        var pollSet: [pollfd] = []
        var polled: [(slot: ServerSlot, connection: RedisConnection)] = []
        while true {
            let (jobs, stopping) = inbox.withLock { inbox in
                defer { inbox.jobs.removeAll(keepingCapacity: true) }
                return (inbox.jobs, inbox.stopping)
            }
            for job in jobs { job(reactor) }
            if stopping { break }

            let now = ContinuousClock.now
            reactor.expireDue(now: now)
            for slot in reactor.slots { slot.sweepRetired(now: now) }
            pollSet.removeAll(keepingCapacity: true)
            polled.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0))
            for slot in reactor.slots {
                for connection in slot.connections where connection.fileDescriptor >= 0 {
                    let events = Int16(POLLIN) | (connection.wantsWrite ? Int16(POLLOUT) : 0)
                    pollSet.append(pollfd(fd: connection.fileDescriptor, events: events, revents: 0))
                    polled.append((slot, connection))
                }
            }
            let mayBlock = inbox.withLock { inbox -> Bool in
                inbox.sleeping = inbox.jobs.isEmpty && !inbox.stopping
                return inbox.sleeping
            }
            let timeout = mayBlock ? reactor.pollTimeoutMilliseconds(now: now) : 0
            let ready = poll(&pollSet, nfds_t(pollSet.count), timeout)
            inbox.withLock { $0.sleeping = false }
            guard ready > 0 else { continue }

            if pollSet[0].revents != 0 { drainWakeups() }
            for (position, entry) in polled.enumerated() {
                let revents = pollSet[position + 1].revents
                guard revents != 0, entry.connection.state != .closed else { continue }
                let readable = revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
                let writable = revents & Int16(POLLOUT) != 0
                entry.slot.handle(entry.connection, readable: readable, writable: writable)
            }
        }
        finish(reactor)
    }

    private func finish(_ reactor: Reactor) {
        reactor.shutDown()
        // Jobs that raced with the stop still run, against a shut-down reactor that fails them.
        let (jobs, callbacks) = inbox.withLock { inbox in
            inbox.stopped = true
            defer { inbox.jobs = []; inbox.onStopped = [] }
            return (inbox.jobs, inbox.onStopped)
        }
        for job in jobs { job(reactor) }
        for callback in callbacks { callback() }
    }

    private func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeReader, &buffer, buffer.count) > 0 {}
    }

    /// The loop thread takes no signals: `SIGPIPE` from a write to a dead server stays pending here
    /// (the write fails with `EPIPE` instead), and process signals go to the application's threads.
    private func blockSignalsOnThisThread() {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}

/// The loop-confined state: one `ServerSlot` per server and the rounds in flight. Only the loop
/// thread touches it; jobs receive it as their argument.
final class Reactor {
    let loop: EventLoop
    let slots: [ServerSlot]
    private(set) var isShutDown = false
    private var inFlight: [FanOut] = []
    private var lastConnectionID: ConnectionID = 0

    init(loop: EventLoop, slots: [ServerSlot]) {
        self.loop = loop
        self.slots = slots
    }

    func makeConnectionID() -> ConnectionID {
        lastConnectionID += 1
        return lastConnectionID
    }

    /// Tracks a round until every server has answered or timed out.
    func track(_ fanOut: FanOut) {
        inFlight.append(fanOut)
    }

    func untrack(_ fanOut: FanOut) {
        if let position = inFlight.firstIndex(where: { $0 === fanOut }) {
            inFlight.swapAt(position, inFlight.count - 1)
            inFlight.removeLast()
        }
    }

    /// Times out the servers of every round whose deadline has passed.
    func expireDue(now: ContinuousClock.Instant) {
        for fanOut in inFlight where fanOut.deadline <= now {
            fanOut.expire()
        }
    }

    /// How long `poll` may sleep: until the nearest round deadline or retired-connection close.
    func pollTimeoutMilliseconds(now: ContinuousClock.Instant) -> Int32 {
        let deadlines = inFlight.map(\.deadline) + slots.compactMap(\.nextRetiredDeadline)
        guard let nearest = deadlines.min() else { return -1 }
        let wait = nearest - now
        return wait > .zero ? Int32(clamping: wait.millisecondsRoundedUp) : 0
    }

    fileprivate func shutDown() {
        isShutDown = true
        for slot in slots { slot.closeAll(ServerOutcome(.connectionClosed, detail: "client shut down")) }
    }
}
