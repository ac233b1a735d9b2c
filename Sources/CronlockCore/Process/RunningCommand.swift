import RedLock
import CSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A command started in its own process group under a guard process, as cronlock runs it.
///
/// - The command runs directly (no shell), with stdin, stdout and stderr passed through and no
///   other descriptor of this process (no Redis socket) inherited.
/// - It runs in a new process group whose id is `processGroup`; `signalGroup(_:)` and
///   `stop(grace:)` reach the command and every descendant that stayed in the group.
/// - It runs under a guard process (a child of this process, outside the command's group): if
///   this process dies, even by SIGKILL, the guard's Linux parent-death signal makes it kill the
///   whole group; the guard also reaps the group's orphans, so none lingers as a zombie.
/// - `waitForExit()` returns only when no process of the group remains.
///
/// `start` may be called from any thread: the exit of the thread that started the command does
/// not kill it (the guard checks that the process, not just the thread, is gone).
public final class RunningCommand: Sendable {
    /// The command's process group id (also the command's pid). Signal it with
    /// `signalGroup(_:)` rather than with `kill` directly: that is a no-op once the group is gone.
    public let processGroup: Int32

    private let watch: GroupWatch

    private init(processGroup: Int32, watch: GroupWatch) {
        self.processGroup = processGroup
        self.watch = watch
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
    /// Returns once the command has been exec'ed; blocks the calling thread for that long (about
    /// a millisecond).
    ///
    /// - Throws: `SpawnFailure` when the command is not found (exit code 127), is not executable
    ///   (126), or the system refused to start it (126). No process is left behind then.
    public static func start(_ arguments: [String], environment: [String: String],
                             output: OutputTail? = nil) throws(SpawnFailure) -> RunningCommand {
        guard let name = arguments.first else {
            throw SpawnFailure(kind: .notFound, command: "", errorNumber: ENOENT, step: .resolve)
        }
        let result = CStringArray.with(arguments) { argv in
            CStringArray.with(CStringArray.entries(of: environment)) { envp in
                var result = cspawn_result()
                cspawn_start(argv[0], argv, envp, output?.commandDescriptors.stdout ?? -1,
                             output?.commandDescriptors.stderr ?? -1, &result)
                return result
            }
        }
        guard result.outcome == CSPAWN_STARTED else {
            output?.abandon()
            throw SpawnFailure(result, command: name)
        }
        output?.startCopying()
        let (group, guardProcess) = (result.group, result.guard)
        let watch = GroupWatch()
        guard DetachedThread.start({ watch.watch(guardProcess: guardProcess, group: group) }) else {
            // Nothing could ever wait for this group: do not leave it running unwatched.
            kill(-group, SIGKILL)
            _ = GroupWatch.reap(guardProcess)
            throw SpawnFailure(kind: .failed, command: name, errorNumber: EAGAIN, step: .prepare)
        }
        return RunningCommand(processGroup: group, watch: watch)
    }

    /// Checks that `arguments[0]` would start (found, executable) without starting anything, the
    /// same way `start` looks it up, so a caller can refuse a missing command before taking a lock.
    ///
    /// - Throws: `SpawnFailure` (`notFound`, 127; `notExecutable`, 126).
    public static func check(_ arguments: [String], environment: [String: String]) throws(SpawnFailure) {
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

    /// Sends `signal` (e.g. `SIGTERM`) to every process of the command's group: the command and
    /// its descendants that stayed in the group (the guard is not in it). Does nothing once the
    /// group is gone (its id could be reused).
    public func signalGroup(_ signal: Int32) {
        guard watch.termination == nil else { return }
        kill(-processGroup, signal)
    }

    /// Waits until the command has ended and no process of its group remains (a backgrounded
    /// grandchild that outlives the command is waited for too), and returns how the command ended.
    ///
    /// Blocking waits happen on a dedicated thread, never on Swift's cooperative pool. Not
    /// cancellable: to end the wait early, end the group (`stop(grace:)`, `signalGroup(SIGKILL)`).
    /// Any number of tasks may wait; all get the same result.
    public func waitForExit() async -> Termination {
        await watch.wait()
    }

    /// Stops the command: SIGTERM (then SIGCONT, so that a stopped group sees it) to the whole
    /// group; SIGKILL to the group if any process of it is still there after `grace`. Returns how
    /// the command ended once the group is gone: usually `.signaled(SIGTERM)`, or whatever the
    /// command exited with when it handled SIGTERM, or `.signaled(SIGKILL)` after the grace.
    /// Cancelling the calling task sends SIGKILL at once instead of waiting out `grace`.
    public func stop(grace: Duration) async -> Termination {
        signalGroup(SIGTERM)
        signalGroup(SIGCONT)
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
                signalGroup(SIGKILL)
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
        default: .failed
        }
        let step: Step = switch result.step {
        case CSPAWN_STEP_RESOLVE: .resolve
        case CSPAWN_STEP_GUARD: .guardSetUp
        case CSPAWN_STEP_FORK_COMMAND: .forkCommand
        case CSPAWN_STEP_EXEC: .exec
        case CSPAWN_STEP_PROCESS_GROUP: .processGroup
        default: .prepare
        }
        self.init(kind: kind, command: command, errorNumber: result.error, step: step)
    }
}
