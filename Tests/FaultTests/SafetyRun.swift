import FaultSupport
import Foundation
import RedLock
import RedisTestSupport

/// The safety check: contenders (test tasks, contender processes, cronlock runs) cycle through
/// acquire → critical section → release on a few keys of five real servers while the fault
/// schedule acts on the servers, until the observer has seen `cycles` critical sections.
struct SafetyRun: Sendable {
    var seed: UInt64
    var cycles: Int
    /// Restart killed servers at once instead of after the longest TTL (the variant that shows why
    /// Redlock needs the delay).
    var immediateRestart = false
    /// Break the lock on purpose: the library contenders' restart guard off, and the faults that
    /// let a second holder in (`FaultKind.earlyExpiry`, `.pauseContender`) added to the schedule.
    var breakTheLock = false
    /// Every contender takes fencing tokens and writes to a `FencedStore` on a server of its own
    /// as each critical section begins and ends; the report then has `fencing`.
    var fenced = false
    var taskContenders = 5
    var processContenders = 2
    var cronlockContenders = 2
    var keys = ["fault:key:0", "fault:key:1", "fault:key:2"]
    /// The library contenders' TTL (they never extend).
    var ttl = Duration.milliseconds(300)
    /// The library contenders' longest critical section (a few overrun their TTL regardless).
    var maximumHold = Duration.milliseconds(2)
    /// cronlock's `--ttl`: the longest TTL of the run.
    var cronlockTTL = Duration.milliseconds(500)
    /// The first cronlock loop stops cronlock past its TTL on every this-many-th run ("client
    /// process paused"); the guard must end the command by the lock's deadline.
    var clientPauseEvery = 25
    /// Fault schedules running side by side (`FaultSettings.faultLanes`).
    var faultLanes = FaultSettings.faultLanes
    /// The environment variable that sets `cycles` in this run's test, for the report's replay line.
    var cyclesVariable = "REDLOCK_FAULT_CYCLES"
    /// Gives up (and fails) when the cycles take longer than this.
    var timeLimit: Duration
    /// With certificates, the masters listen with TLS only (`rediss://`) and every contender
    /// trusts their CA; without, plain TCP.
    var certificates: TestCertificates?

    init(seed: UInt64, cycles: Int, immediateRestart: Bool = false, certificates: TestCertificates? = nil) {
        self.seed = seed
        self.cycles = cycles
        self.immediateRestart = immediateRestart
        self.certificates = certificates
        timeLimit = (.seconds(60) + .milliseconds(20) * cycles).scaled
    }

    /// What the contender processes and cronlock add to their environment: the CA, as cronlock takes it.
    private var childEnvironment: [String: String] {
        certificates.map { ["CRONLOCK_TLS_CA_FILE": $0.certificate("ca")] } ?? [:]
    }

    /// A killed server stays down at least this long: the longest TTL, plus a margin.
    var restartDelay: Duration { max(ttl, cronlockTTL) + .milliseconds(100) }

    func run() async throws -> SafetyReport {
        let started = ContinuousClock.now
        // Without persistence, so that a killed server comes back empty. The clients' restart guard
        // (on by default) withholds a server's votes for a TTL after its start: the run begins
        // once the servers are older than that (the guard reads uptime_in_seconds − 1 s).
        let cluster = try await RedisCluster.start(count: 5, persistent: false, tls: certificates?.server())
        defer { cluster.stopAll() }
        try await Task.sleep(for: max(ttl, cronlockTTL) + .seconds(2))
        try await warmUp(cluster)
        let before = ResourceUsage.current()
        let observer = CriticalSectionObserver()
        let stop = StopSignal()
        // Whatever happens below, every contender and fault lane winds down (contender processes
        // are killed when their process objects go).
        defer { stop.set() }
        let store = try await fenced ? FencedStore.start() : nil
        let contenders = try startContenders(cluster, store: store, observer: observer, stop: stop)
        let injector = FaultInjector(cluster: cluster, restartDelay: restartDelay, keys: keys, contenders: contenders.processes, contenderTTL: ttl)
        let faults = Task { await injectFaults(injector, servers: cluster.servers.count, contenders: contenders.processes.count, stop: stop) }

        let finishedInTime = await waitForCycles(observer)
        stop.set()
        await faults.value
        await injector.healAll()
        let cyclesDone = observer.count
        let wallTime = ContinuousClock.now - started
        let (tally, cronlockOutcome) = try await contenders.finish()

        let keysAtEnd = try await withoutFences(cluster.keys("*"))
        try await Task.sleep(for: restartDelay + .milliseconds(100))
        let staleKeys = try await withoutFences(cluster.keys("*"))
        let after = await Self.settledUsage(notAbove: before)
        let overlaps = observer.overlaps()
        var fencing: FencingFigures?
        if let store {
            var writes: [String: [FencedStore.Write]] = [:]
            for key in keys { writes[key] = try await store.writes(key) }
            fencing = FencingFigures(sections: observer.all, writes: writes, overlaps: overlaps)
        }

        return SafetyReport(
            seed: seed, variant: variant, masters: certificates == nil ? "plain TCP" : "TLS only (rediss://)", cyclesRequested: cycles, cyclesVariable: cyclesVariable,
            cycles: cyclesDone, finishedInTime: finishedInTime,
            contenders: "\(taskContenders) tasks, \(processContenders) processes, \(cronlockContenders) cronlock loops",
            tally: tally, cronlockExits: cronlockOutcome.exits, clientPauses: cronlockOutcome.clientPauses,
            cronlockUnexpected: cronlockOutcome.unexpected, faults: await injector.counts, injectionErrors: await injector.errors,
            overlaps: overlaps, enteredExpired: observer.enteredExpired.count, fencing: fencing,
            keysRightAfterRun: keysAtEnd, staleKeys: staleKeys, before: before, after: after, wallTime: wallTime)
    }

    /// The report's name for this run's variant, if it is one.
    private var variant: String? {
        let parts = [immediateRestart ? "IMMEDIATE RESTART" : nil, breakTheLock ? "LOCK BROKEN ON PURPOSE" : nil, fenced ? "FENCED STORE" : nil]
        let named = parts.compactMap { $0 }
        return named.isEmpty ? nil : named.joined(separator: ", ")
    }

    /// A client configuration for `cluster`, trusting the test CA in the TLS variant.
    private func clientConfiguration(_ cluster: RedisCluster) throws -> RedLockConfiguration {
        var configuration = try RedLockConfiguration(serverAddresses: cluster.urls)
        configuration.tls.caFile = certificates?.certificate("ca")
        return configuration
    }

    /// One of everything the run does, so that what the runtime opens once and keeps (Dispatch's
    /// timer descriptor for the first `Task.sleep`, …) is open before the "before" count.
    private func warmUp(_ cluster: RedisCluster) async throws {
        let client = try RedLockClient(configuration: try clientConfiguration(cluster))
        try await client.release(try await client.acquire("fault:warm-up", ttl: ttl))
        await client.shutdown()
        try await Task.sleep(for: .milliseconds(5))
        let child = try BuiltProducts.start(BuiltProducts.faultContender, ["cs", "--hold-us", "0"], adding: childEnvironment)
        guard await child.exitCode(within: .seconds(10)) == 0 else { throw HarnessError("FaultContender cs failed: \(child.standardError)") }
    }

    /// Every contender, running.
    private struct RunningContenders {
        var tasks: [Task<ContenderTally, Never>]
        var processes: [ContenderProcess]
        var cronlocks: [Task<CronlockContender.Outcome, Never>]

        /// Waits for every contender to stop (after `stop` was set); their tallies and cronlock's outcome.
        func finish() async throws -> (ContenderTally, CronlockContender.Outcome) {
            var tally = ContenderTally()
            for task in tasks { tally.merge(await task.value) }
            for process in processes { tally.merge(try await process.stop()) }
            var outcome = CronlockContender.Outcome()
            for task in cronlocks { outcome.merge(await task.value) }
            return (tally, outcome)
        }
    }

    /// Starts the tasks, the contender processes and the cronlock loops.
    private func startContenders(_ cluster: RedisCluster, store: FencedStore?, observer: CriticalSectionObserver, stop: StopSignal) throws -> RunningContenders {
        let tasks = try taskContenders(cluster, store: store, observer: observer, stop: stop)
        let processes = try (0..<processContenders).map { index in
            try ContenderProcess(servers: cluster.urls, environment: childEnvironment, plan: plan("process \(index)", stream: 100 + UInt64(index), store: store),
                                 observer: observer)
        }
        let cronlocks = (0..<cronlockContenders).map { index in
            let contender = CronlockContender(name: "cronlock \(index)", servers: cluster.urls, environment: childEnvironment, keys: keys, ttl: cronlockTTL, maximumHold: .milliseconds(5),
                                              seed: SeededGenerator.derived(from: seed, stream: 200 + UInt64(index)).seedValue,
                                              pauseEvery: index == 0 ? clientPauseEvery : nil, fencedStore: store?.socketPath)
            return Task { await contender.run(observer: observer, stop: stop) }
        }
        return RunningContenders(tasks: tasks, processes: processes, cronlocks: cronlocks)
    }

    /// The in-process contenders, each with its own client.
    private func taskContenders(_ cluster: RedisCluster, store: FencedStore?, observer: CriticalSectionObserver,
                                stop: StopSignal) throws -> [Task<ContenderTally, Never>] {
        try (0..<taskContenders).map { index in
            let plan = plan("task \(index)", stream: UInt64(index), store: store)
            var configuration = try clientConfiguration(cluster)
            plan.configure(&configuration)
            let client = try RedLockClient(configuration: configuration)
            return Task {
                let tally = await ContenderLoop.run(client: client, plan: plan, stop: stop) { report in
                    observer.record(.init(report, holder: plan.name))
                }
                await client.shutdown()
                return tally
            }
        }
    }

    private func plan(_ name: String, stream: UInt64, store: FencedStore?) -> ContenderPlan {
        var plan = ContenderPlan(name: name, keys: keys, ttl: ttl, maximumHold: maximumHold, overrunChance: 0.002, maximumPause: .milliseconds(2),
                                 seed: SeededGenerator.derived(from: seed, stream: stream).seedValue, longestKeyLife: max(ttl, cronlockTTL))
        plan.restartGuard = !breakTheLock
        plan.fencedStore = store?.socketPath
        return plan
    }

    /// Runs `faultLanes` schedules side by side (so faults overlap), each on servers the others
    /// leave alone, until `stop` is set.
    private func injectFaults(_ injector: FaultInjector, servers: Int, contenders: Int, stop: StopSignal) async {
        let kinds = FaultKind.schedule(immediateRestart: immediateRestart, breakTheLock: breakTheLock)
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<UInt64(faultLanes) {
                group.addTask {
                    var schedule = FaultSchedule(seed: seed, lane: lane, kinds: kinds, serverCount: servers, contenderCount: contenders)
                    while !stop.isSet {
                        guard let episode = schedule.next(busy: await injector.busy, down: await injector.down.count) else {
                            try? await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        guard await injector.perform(episode) else { continue }
                        try? await Task.sleep(for: episode.gapAfter)
                    }
                }
            }
        }
    }

    /// Polls the observer until it has seen `cycles` critical sections; false if the time limit passed.
    private func waitForCycles(_ observer: CriticalSectionObserver) async -> Bool {
        await eventually(within: timeLimit) { observer.count >= cycles }
    }

    /// Resource use once the run's threads and descriptors have wound down (up to 5 s).
    private static func settledUsage(notAbove before: ResourceUsage) async -> ResourceUsage {
        let deadline = ContinuousClock.now + .seconds(5)
        var usage = ResourceUsage.current()
        while usage.descriptorsBesideRunLoops > before.descriptorsBesideRunLoops, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            usage = ResourceUsage.current()
        }
        return usage
    }
}

extension SeededGenerator {
    /// A seed for a participant's own generator.
    var seedValue: UInt64 {
        var copy = self
        return copy.next()
    }
}
