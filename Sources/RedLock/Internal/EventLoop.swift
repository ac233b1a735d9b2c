import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisIO

/// A dedicated thread that owns every hiredis connection of one client and drives them all with
/// one `poll()`; callers hand it jobs and wait on continuations, so nothing blocks Swift's
/// cooperative pool. A round costs two thread hops (hand-over and resume), whatever N is; the
/// hand-over needs no wake-up while the loop is still spinning after the previous round.
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

    /// A non-blocking, close-on-exec pipe.
    private static func makeWakePipe(_ ends: inout [Int32]) -> Int32 {
        chiredis_pipe_cloexec(&ends, 1)
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
        var spinUntil = ContinuousClock.now
        while true {
            let (jobs, stopping) = inbox.withLock { inbox in
                defer { inbox.jobs.removeAll(keepingCapacity: true) }
                return (inbox.jobs, inbox.stopping)
            }
            for job in jobs { job(reactor) }
            if stopping { break }
            let now = ContinuousClock.now
            if !jobs.isEmpty { spinUntil = now + Self.spinWindow }

            reactor.expireDue(now: now)
            for slot in reactor.slots { slot.sweepRetired(now: now) }
            pollSet.removeAll(keepingCapacity: true)
            polled.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0))
            for slot in reactor.slots {
                slot.forEachConnection { connection in
                    guard connection.fileDescriptor >= 0 else { return }
                    let events = Int16(POLLIN) | (connection.wantsWrite ? Int16(POLLOUT) : 0)
                    pollSet.append(pollfd(fd: connection.fileDescriptor, events: events, revents: 0))
                    polled.append((slot, connection))
                }
            }
            var ready: Int32 = 0
            // Nothing changes the deadlines while the loop spins or sleeps: jobs end both.
            let nearestDeadline = reactor.nearestDeadline
            let spinLimit = nearestDeadline.map { min($0, spinUntil) } ?? spinUntil
            if now < spinLimit, Self.startSpinning() {
                defer { Self.stopSpinning() }
                // Busy a moment ago: the next reply or job (a release right after its acquire) is
                // likely close, so poll without sleeping, yielding the CPU to anything runnable
                // (the servers, the caller's thread) between looks. Meanwhile submitters skip the
                // wake-up write, and the kernel need not wake this thread: each wake-up of a
                // sleeping thread costs tens of microseconds on a VM, several per round.
                ready = poll(&pollSet, nfds_t(pollSet.count), 0)
                while ready == 0, ContinuousClock.now < spinLimit, inbox.withLock({ $0.jobs.isEmpty && !$0.stopping }) {
                    sched_yield()
                    ready = poll(&pollSet, nfds_t(pollSet.count), 0)
                }
            }
            if ready == 0 {
                let mayBlock = inbox.withLock { inbox -> Bool in
                    inbox.sleeping = inbox.jobs.isEmpty && !inbox.stopping
                    return inbox.sleeping
                }
                guard mayBlock else { continue }
                ready = poll(&pollSet, nfds_t(pollSet.count), Self.pollTimeoutMilliseconds(until: nearestDeadline))
                inbox.withLock { $0.sleeping = false }
            }
            guard ready > 0 else { continue }

            if pollSet[0].revents != 0 { drainWakeups() }
            var commandTraffic = false
            for (position, entry) in polled.enumerated() {
                let revents = pollSet[position + 1].revents
                guard revents != 0, entry.connection.state != .closed else { continue }
                let readable = revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
                let writable = revents & Int16(POLLOUT) != 0
                commandTraffic = commandTraffic || !entry.slot.isSubscriber(entry.connection)
                entry.slot.handle(entry.connection, readable: readable, writable: writable)
            }
            // A release notice alone does not start a spin: every waiting process hears each one,
            // and 32 of them spinning on two cores after every release cost more than the notice
            // saved (Benchmarks/compare). A waiter it wakes submits a round, which does.
            if commandTraffic { spinUntil = ContinuousClock.now + Self.spinWindow }
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

    /// How long the loop keeps polling without sleeping after its last job or event. Measured side
    /// by side on a 2-vCPU VM: acquire+release p50 from 268 to 154 µs at N = 1 and from 448 to
    /// 303 µs at N = 5 with an idle machine (less, or nothing at N = 1, when other processes keep
    /// the CPUs awake); a client that goes idle spends at most this much CPU.
    static let spinWindow: Duration = .microseconds(200)

    /// Loop threads spinning now, in the whole process: at most one at a time. A process with many
    /// busy clients (a test suite) would otherwise keep every CPU spinning and starve the threads
    /// the loops are waiting for; the others sleep in `poll` as usual.
    private static let spinners = PthreadLock(0)
    private static let maximumSpinners = 1

    private static func startSpinning() -> Bool {
        spinners.withLock { count in
            guard count < maximumSpinners else { return false }
            count += 1
            return true
        }
    }

    private static func stopSpinning() {
        spinners.withLock { $0 -= 1 }
    }

    /// How long `poll` may sleep: until `deadline`, counted from now (after any spin), or for ever.
    private static func pollTimeoutMilliseconds(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return -1 }
        let wait = deadline - .now
        return wait > .zero ? Int32(clamping: wait.millisecondsRoundedUp) : 0
    }

    /// Empties the wake-up pipe: one `read` unless more than 64 wake-ups piled up.
    private func drainWakeups() {
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let size = MemoryLayout.size(ofValue: buffer)
        while withUnsafeMutableBytes(of: &buffer, { read(wakeReader, $0.baseAddress, size) }) == size {}
    }

    /// The loop thread takes no signals: `SIGPIPE` from a write to a dead server stays pending here
    /// (the write fails with `EPIPE` instead), and process signals go to the application's threads.
    private func blockSignalsOnThisThread() {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
    }
}

/// The loop-confined state: one `ServerSlot` per server, the rounds in flight and the callers
/// waiting for a release. Only the loop thread touches it (asserted on every entry, see
/// `LoopThread`); jobs receive it as their argument.
final class Reactor {
    let loop: EventLoop
    let slots: [ServerSlot]
    /// Each slot's address, in configuration order (built once, not per round).
    let addresses: [RedisServerAddress]
    let releaseWatches = ReleaseWatches()
    private(set) var isShutDown = false
    /// Rounds in flight, with their deadlines and identities in parallel arrays: the loop scans the
    /// deadlines on every turn, and scanning plain values costs no reference counting (a round
    /// that waits on a stopped server stays here until it times out, so there can be thousands).
    private var inFlight: [FanOut] = []
    private var inFlightDeadlines: [ContinuousClock.Instant] = []
    private var inFlightIDs: [ObjectIdentifier] = []
    private var lastConnectionID: ConnectionID = 0
    /// Granted acquisitions held back until every server's handshake has said who it is.
    var awaitingIdentities: [() -> Void] = []
    /// Two configured addresses that reach the same server, as a message naming both; nil while
    /// every identity known is distinct. Updated by `identityRead()` whenever a handshake says who
    /// its server is.
    var duplicateServers: String?
    /// The loop's thread, which created the reactor: checked on every entry.
    let loopThread = LoopThread()

    init(loop: EventLoop, slots: [ServerSlot]) {
        self.loop = loop
        self.slots = slots
        addresses = slots.map(\.address)
    }

    func makeConnectionID() -> ConnectionID {
        loopThread.preconditionOnLoopThread()
        lastConnectionID += 1
        return lastConnectionID
    }

    /// Tracks a round until every server has answered or timed out.
    func track(_ fanOut: FanOut) {
        loopThread.preconditionOnLoopThread()
        inFlight.append(fanOut)
        inFlightDeadlines.append(fanOut.deadline)
        inFlightIDs.append(ObjectIdentifier(fanOut))
    }

    func untrack(_ fanOut: FanOut) {
        loopThread.preconditionOnLoopThread()
        if let position = inFlightIDs.lastIndex(of: ObjectIdentifier(fanOut)) {
            let last = inFlight.count - 1
            inFlight.swapAt(position, last)
            inFlightDeadlines.swapAt(position, last)
            inFlightIDs.swapAt(position, last)
            inFlight.removeLast()
            inFlightDeadlines.removeLast()
            inFlightIDs.removeLast()
        }
    }

    /// Times out the servers of every round whose deadline has passed.
    func expireDue(now: ContinuousClock.Instant) {
        loopThread.preconditionOnLoopThread()
        var due: [FanOut] = []
        for (position, deadline) in inFlightDeadlines.enumerated() where deadline <= now {
            due.append(inFlight[position])
        }
        for fanOut in due { fanOut.expire() }
        releaseWatches.expireDue(now: now)
        if !awaitingIdentities.isEmpty { resumeAwaitingIdentities() }
    }

    /// The nearest round deadline, retired-connection close or end of a wait for a release, if any.
    var nearestDeadline: ContinuousClock.Instant? {
        var nearest = inFlightDeadlines.min()
        if let waitEnds = releaseWatches.nearestDeadline, nearest.map({ waitEnds < $0 }) ?? true { nearest = waitEnds }
        for slot in slots {
            if let closeAt = slot.nextRetiredDeadline, nearest.map({ closeAt < $0 }) ?? true { nearest = closeAt }
        }
        return nearest
    }

    fileprivate func shutDown() {
        loopThread.preconditionOnLoopThread()
        isShutDown = true
        for slot in slots { slot.closeAll(ServerOutcome(.connectionClosed, detail: "client shut down")) }
        resumeAwaitingIdentities()
        releaseWatches.shutDown()
    }
}
