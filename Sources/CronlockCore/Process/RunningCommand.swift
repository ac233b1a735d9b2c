import RedLock
import CSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisIO

/// A command started in its own process group under a guard process that holds its lease, as
/// cronlock runs it.
///
/// - The command runs directly (no shell), with stdin, stdout and stderr passed through and no
///   other descriptor of this process (no Redis socket) inherited.
/// - Its tree is the command, its process group (`processGroup`) and every descendant, including
///   those that left the group (`setsid`, double fork). `signalTree(_:)` and `stop(grace:)` reach it.
/// - The guard (`cronlock-guard` in `ps`) runs in a session of its own, so signals to this
///   process's group never reach it. It kills the whole tree when this process dies (any signal,
///   SIGKILL included) and, with a `Lease`, when the lease deadline passes without an
///   `extendLease(until:)`, whatever this process is doing (stopped, starved). The command dies
///   with the guard (parent-death SIGKILL).
/// - `waitForExit()` returns only when no process of the tree remains.
///
/// `start` may be called from any thread: the exit of the thread that started the command does
/// not kill it.
package final class RunningCommand: Sendable {
    /// What the guard enforces: the command's tree is killed at `deadline` unless extended, and
    /// the command is not started when less than `margin` of it is left just before exec.
    package struct Lease: Sendable {
        /// When the lock stops being valid (`Lock.validUntil`).
        package var deadline: ContinuousClock.Instant
        /// The least validity the command may start with.
        package var margin: Duration

        package init(deadline: ContinuousClock.Instant, margin: Duration) {
            self.deadline = deadline
            self.margin = margin
        }
    }

    /// The command's process group id (also the command's pid). Signal the command through
    /// `signalTree(_:)` rather than with `kill`: the group's id may be reused once it is gone.
    package let processGroup: Int32

    private let watch: GroupWatch
    private let channel: GuardChannel

    private init(processGroup: Int32, watch: GroupWatch, channel: GuardChannel) {
        self.processGroup = processGroup
        self.watch = watch
        self.channel = channel
    }

    /// Starts `arguments` (`arguments[0]` is the command: used as is when it contains a `/`, else
    /// looked up in the `PATH` of `environment`, or `/bin:/usr/bin` when it has none) with
    /// exactly `environment` as its environment (use `ProcessEnvironment.current(adding:)` to
    /// pass this process's environment plus additions).
    ///
    /// The command starts with an empty signal mask and every signal at its default, except those
    /// this process was started with ignored when `SignalRelay.blockRelayedSignals()` recorded
    /// them (SIGHUP under `nohup`).
    ///
    /// With `output`, the command's stdout and stderr go through it (passed on, and their tail
    /// kept); without, they are cronlock's own.
    ///
    /// With `lease`, the guard kills the tree at its deadline unless `extendLease(until:)` moves it.
    ///
    /// Returns once the command has been exec'ed; blocks the calling thread for that long (about
    /// a millisecond).
    ///
    /// - Throws: `SpawnFailure` when the command is not found (exit code 127), is not executable
    ///   (126), the system refused to start it (126), or less than the lease's margin was left
    ///   (`leaseTooShort`, 79). No process is left behind then.
    package static func start(_ arguments: [String], environment: [String: String],
                             output: OutputTail? = nil, lease: Lease? = nil) throws(SpawnFailure) -> RunningCommand {
        guard let name = arguments.first else {
            throw SpawnFailure(kind: .notFound, command: "", errorNumber: ENOENT, step: .resolve)
        }
        let result = CStringArray.with(arguments) { argv in
            CStringArray.with(CStringArray.entries(of: environment)) { envp in
                var result = cspawn_result()
                let guarded = cspawn_lease(deadline: lease.map { GuardChannel.boottimeNanoseconds(of: $0.deadline) } ?? 0,
                                           margin: lease.map { GuardChannel.nanoseconds($0.margin) } ?? 0)
                cspawn_start(argv[0], argv, envp, output?.commandDescriptors.stdout ?? -1,
                             output?.commandDescriptors.stderr ?? -1, guarded, &result)
                return result
            }
        }
        guard result.outcome == CSPAWN_STARTED else {
            output?.abandon()
            throw SpawnFailure(result, command: name)
        }
        output?.startCopying()
        let guardProcess = result.guard
        let watch = GroupWatch()
        let channel = GuardChannel(descriptor: result.control)
        guard DetachedThread.start({ watch.watch(guardProcess: guardProcess, channel: channel) }) else {
            // Nothing could ever wait for this tree: closing the channel makes the guard kill it.
            _ = channel.closeAfterGuardExit()
            _ = GroupWatch.reap(guardProcess)
            throw SpawnFailure(kind: .failed, command: name, errorNumber: EAGAIN, step: .prepare)
        }
        return RunningCommand(processGroup: result.group, watch: watch, channel: channel)
    }

    /// Checks that `arguments[0]` would start (found, executable) without starting anything, the
    /// same way `start` looks it up, so a caller can refuse a missing command before taking a lock.
    ///
    /// - Throws: `SpawnFailure` (`notFound`, 127; `notExecutable`, 126).
    package static func check(_ arguments: [String], environment: [String: String]) throws(SpawnFailure) {
        let name = arguments.first ?? ""
        var error: Int32 = 0
        let outcome = CStringArray.with(CStringArray.entries(of: environment)) { envp in
            var resolved = [CChar](repeating: 0, count: Int(PATH_MAX))
            return cspawn_resolve(name, envp, &resolved, &error)
        }
        guard outcome == CSPAWN_STARTED else {
            var result = cspawn_result()
            result.outcome = outcome
            result.step = CSPAWN_STEP_RESOLVE
            result.error = error
            throw SpawnFailure(result, command: name)
        }
    }

    /// Sends `signal` (e.g. `SIGTERM`) through the guard to every process of the command's tree:
    /// its process group and the descendants that left it (the guard itself is not signalled).
    /// Does nothing once the tree is gone.
    package func signalTree(_ signal: Int32) {
        channel.signalTree(signal)
    }

    /// Moves the lease's deadline: the guard kills the tree at `deadline` unless moved again.
    package func extendLease(until deadline: ContinuousClock.Instant) {
        channel.extendLease(until: deadline)
    }

    /// True once the tree is gone if the guard killed it because the lease deadline had passed.
    package var leaseExpired: Bool { watch.ending?.leaseExpired ?? false }

    /// Waits until the command has ended and no process of its tree remains (a backgrounded or
    /// detached descendant that outlives the command is waited for too), and returns how the
    /// command ended.
    ///
    /// Blocking waits happen on a dedicated thread, never on Swift's cooperative pool. Not
    /// cancellable: to end the wait early, end the tree (`stop(grace:)`, `signalTree(SIGKILL)`).
    /// Any number of tasks may wait; all get the same result.
    package func waitForExit() async -> Termination {
        await watch.wait().termination
    }

    /// Stops the command: SIGTERM (then SIGCONT, so that a stopped tree sees it) to the whole
    /// tree; SIGKILL to the tree if any process of it is still there after `grace`. Returns how
    /// the command ended once the group is gone: usually `.signaled(SIGTERM)`, or whatever the
    /// command exited with when it handled SIGTERM, or `.signaled(SIGKILL)` after the grace.
    /// Cancelling the calling task sends SIGKILL at once instead of waiting out `grace`.
    package func stop(grace: Duration) async -> Termination {
        signalTree(SIGTERM)
        signalTree(SIGCONT)
        return await withTaskGroup(of: Termination?.self) { tasks in
            tasks.addTask { await self.waitForExit() }
            tasks.addTask {
                try? await Task.sleep(for: grace)
                return nil
            }
            while let next = await tasks.next() {
                if let termination = next {
                    tasks.cancelAll()
                    return termination
                }
                signalTree(SIGKILL)
            }
            return await waitForExit()
        }
    }
}

extension SpawnFailure {
    /// Translates a failed `cspawn_start`.
    init(_ result: cspawn_result, command: String) {
        let kind: Kind = switch result.outcome {
        case CSPAWN_NOT_FOUND: .notFound
        case CSPAWN_NOT_EXECUTABLE: .notExecutable
        case CSPAWN_LEASE_TOO_SHORT: .leaseTooShort
        default: .failed
        }
        let step: Step = switch result.step {
        case CSPAWN_STEP_RESOLVE: .resolve
        case CSPAWN_STEP_GUARD: .guardSetUp
        case CSPAWN_STEP_FORK_COMMAND: .forkCommand
        case CSPAWN_STEP_EXEC: .exec
        case CSPAWN_STEP_PROCESS_GROUP: .processGroup
        case CSPAWN_STEP_LEASE: .lease
        default: .prepare
        }
        self.init(kind: kind, command: command, errorNumber: result.error, step: step)
    }
}
