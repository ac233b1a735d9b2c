import CHiredis
import CTestSpawn
import Foundation

/// A child of the test process (a `redis-server`, `cronlock`, a contender), started with
/// `posix_spawn` and reaped by a thread of its own. Every wait happens off Swift's cooperative pool.
///
/// The harness does not use Foundation's `Process`. On Linux its exit monitor wakes the run loop of
/// the thread that called `run()` (or last called `waitUntilExit()`); when that thread has already
/// exited, as Dispatch's pooled threads do, the wake-up reads a freed run loop and the whole test
/// process dies of SIGSEGV in `Process.terminateRunLoop` (it did, in CI).
///
/// - The child gets exactly `environment`, an empty signal mask, default dispositions for the
///   signals a test sends or a shell ignores, and no descriptor of this process but 0, 1 and 2.
/// - It stays in this process's process group, so a Ctrl-C of the test run reaches it too.
/// - `signal(_:)` never reaches a recycled pid: the reaper collects the exit under the same lock.
public final class SpawnedProcess: Sendable {
    /// What the child reads on stdin.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// A pipe from this process, open until `closeInput()`.
        case pipe
    }

    /// What becomes of the child's stdout or stderr.
    public enum Output: Sendable {
        /// `/dev/null`.
        case discard
        /// A pipe whose contents are kept (`standardOutput`, `standardError`).
        case collect
        /// A pipe whose contents are kept and also handed over line by line (without the newline),
        /// on a reader thread, as they arrive.
        case lines(@Sendable (Substring) -> Void)
    }

    /// The child's process id (valid until it has been reaped; `signal(_:)` checks that).
    public var pid: pid_t { child.pid }
    /// What the reaper and reader threads share; they hold it, not this value, so that dropping
    /// this value ends the child.
    private let child: Child

    /// Starts `executable` (a path) with `arguments` and exactly `environment`.
    ///
    /// - Throws: `HarnessError` when a pipe cannot be made or the system refuses to start it (a
    ///   missing or non-executable file included). Nothing is left open or running then.
    public init(_ executable: String, _ arguments: [String], environment: [String: String],
                input: Input = .null, output: Output = .discard, error: Output = .discard) throws {
        child = try Child(executable, arguments, environment: environment, input: input, output: output, error: error)
    }

    /// Dropping the value closes the child's stdin and kills it (SIGKILL) if it is still running:
    /// a test that throws half-way leaves no child behind.
    deinit {
        child.closeInput()
        child.signal(SIGKILL)
    }

    /// True until the child has exited and been reaped.
    public var isRunning: Bool { child.isRunning }
    /// Sends `number` to the child, unless it has already been reaped (its pid may be reused).
    public func signal(_ number: Int32) { child.signal(number) }
    /// Closes the pipe to the child's stdin (it reads end of input). Idempotent.
    public func closeInput() { child.closeInput() }
    /// Everything the child wrote on stdout so far (empty unless stdout was collected).
    public var standardOutput: String { child.text(of: STDOUT_FILENO) }
    /// Everything the child wrote on stderr so far (empty unless stderr was collected).
    public var standardError: String { child.text(of: STDERR_FILENO) }

    /// Waits, blocking the calling thread (never call it on the cooperative pool), until the child
    /// has exited; returns its shell-style exit code (128+n after signal n; -1 if its status was
    /// lost, which only a `waitpid` elsewhere in this process could cause), or `nil` after `limit`.
    public func waitForExit(within limit: Duration) -> Int32? { child.waitForExit(within: limit) }

    /// Waits until the child has exited and everything it wrote on collected pipes has been read
    /// (a descendant that keeps such a pipe open is waited for too), and returns its shell-style
    /// exit code. After `limit`, kills the child (SIGKILL; a descendant that outlived it is not
    /// reached) and returns `nil`. The waiting happens on a thread of its own.
    public func exitCode(within limit: Duration) async -> Int32? {
        let child = self.child
        return await withCheckedContinuation { continuation in
            Thread {
                let deadline = DispatchTime.now() + .nanoseconds(Int(limit.nanosecondsRoundedDown))
                let code = child.waitForExit(within: limit)
                guard code != nil, child.outputRead.wait(timeout: deadline) == .success else {
                    child.signal(SIGKILL)
                    continuation.resume(returning: nil)
                    return
                }
                continuation.resume(returning: code)
            }.start()
        }
    }
}

/// A spawned child's state: its pid, exit code, collected output and stdin pipe, shared with the
/// threads that reap it and read its output.
private final class Child: @unchecked Sendable {
    let pid: pid_t
    private let state = NSCondition()
    /// The shell-style exit code once the child has been reaped.
    private var reapedExitCode: Int32?
    private var collected: [Int32: [UInt8]] = [:]
    private var inputDescriptor: Int32?
    /// Entered by each reader thread; left at the end of its pipe.
    let outputRead = DispatchGroup()

    init(_ executable: String, _ arguments: [String], environment: [String: String],
         input: SpawnedProcess.Input, output: SpawnedProcess.Output, error: SpawnedProcess.Output) throws {
        var plan = try DescriptorPlan(input: input, output: output, error: error)
        do {
            pid = try Self.spawn(executable, arguments, environment: environment, plan: plan)
        } catch {
            plan.closeAll()
            throw error
        }
        plan.closeChildEnds()
        LiveChildren.add(pid)
        inputDescriptor = plan.inputWriteEnd
        for (descriptor, stream) in plan.readEnds { startReading(descriptor, as: stream.fd, output: stream.output) }
        // Plain threads, not Dispatch: its pool has about one thread per core, and waits blocked
        // there would starve every other user of it.
        Thread { self.reap() }.start()
    }

    var isRunning: Bool { state.withLock { reapedExitCode == nil } }

    func signal(_ number: Int32) {
        state.withLock { if reapedExitCode == nil { _ = kill(pid, number) } }
    }

    func closeInput() {
        state.withLock {
            if let descriptor = inputDescriptor { close(descriptor) }
            inputDescriptor = nil
        }
    }

    func waitForExit(within limit: Duration) -> Int32? {
        let deadline = Date().addingTimeInterval(Double(limit.nanosecondsRoundedDown) / 1e9)
        return state.withLock {
            while reapedExitCode == nil, state.wait(until: deadline) {}
            return reapedExitCode
        }
    }

    /// Waits for the child's exit without reaping it (so `signal(_:)` cannot race a recycled pid),
    /// then reaps it under the lock.
    private func reap() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
        LiveChildren.remove(pid)  // still a zombie: its pid cannot have been reused yet
        state.withLock {
            var status: Int32 = 0
            var reaped = waitpid(pid, &status, 0)
            while reaped < 0, errno == EINTR { reaped = waitpid(pid, &status, 0) }
            reapedExitCode = reaped == pid ? Self.shellExitCode(status) : -1
            state.broadcast()
        }
    }

    private func startReading(_ descriptor: Int32, as stream: Int32, output: SpawnedProcess.Output) {
        outputRead.enter()
        let handler: (@Sendable (Substring) -> Void)? = if case .lines(let handler) = output { handler } else { nil }
        Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                self.state.withLock { self.collected[stream, default: []] += buffer[0..<count] }
                guard let handler else { continue }
                pending += buffer[0..<count]
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    handler(Substring(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            if let handler, !pending.isEmpty { handler(Substring(decoding: pending, as: UTF8.self)) }
            close(descriptor)
            self.outputRead.leave()
        }.start()
    }

    func text(of stream: Int32) -> String {
        state.withLock { String(decoding: collected[stream] ?? [], as: UTF8.self) }
    }

    private static func shellExitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private static func spawn(_ executable: String, _ arguments: [String], environment: [String: String],
                              plan: DescriptorPlan) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        try plan.addActions(to: &actions)
        let closing = ctestspawn_add_close_from(&actions, 3)
        guard closing == 0 else { throw HarnessError("posix_spawn cannot close inherited descriptors here: \(String(cString: strerror(closing)))") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU] {
            sigaddset(&defaults, number)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let failure = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard failure == 0 else { throw HarnessError("could not start \(executable): \(String(cString: strerror(failure)))") }
        return pid
    }
}

extension SpawnedProcess {
    /// This process's environment with `overrides` applied, for a child that must never reach a
    /// Redis the harness did not start: cronlock's fallback server (127.0.0.1:6379, which may be
    /// the machine's own Redis) is replaced by a socket that cannot exist, and its password
    /// variable is removed, unless `overrides` sets them.
    public static func isolatedEnvironment(_ overrides: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CRONLOCK_SERVERS"] = "unix:///nonexistent/redlock-tests-name-their-servers.sock"
        environment["CRONLOCK_PASSWORD"] = nil
        // No configuration file: not even the host's /etc/cronlock/cronlock.toml.
        environment["CRONLOCK_CONFIG"] = ""
        return environment.merging(overrides) { $1 }
    }
}

/// Every child not yet exited, killed (SIGKILL) when this process exits. A test's servers are
/// normally stopped when its cluster goes away, but the test runner may exit before the last
/// tests' values are released, and a `redis-server` must never outlive the run that started it.
private enum LiveChildren {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pids: Set<pid_t> = []
    private static let killAtExit: Void = {
        atexit {
            LiveChildren.lock.withLock { LiveChildren.pids.forEach { kill($0, SIGKILL) } }
        }
    }()

    static func add(_ pid: pid_t) {
        killAtExit
        lock.withLock { _ = pids.insert(pid) }
    }

    static func remove(_ pid: pid_t) {
        lock.withLock { _ = pids.remove(pid) }
    }
}

/// The pipes a child's 0, 1 and 2 are connected to: made close-on-exec (so no other child inherits
/// them), the child's ends closed here once it started, this side's ends kept.
private struct DescriptorPlan {
    struct Stream {
        let fd: Int32
        let output: SpawnedProcess.Output
    }

    /// For each of the child's 0, 1, 2: the descriptor to duplicate there, or nil for /dev/null.
    private var childEnds: [Int32: Int32] = [:]
    private(set) var inputWriteEnd: Int32?
    private(set) var readEnds: [(Int32, Stream)] = []

    init(input: SpawnedProcess.Input, output: SpawnedProcess.Output, error: SpawnedProcess.Output) throws {
        do {
            if case .pipe = input {
                let (read, write) = try Self.pipe()
                childEnds[STDIN_FILENO] = read
                inputWriteEnd = write
            }
            for (fd, stream) in [(STDOUT_FILENO, output), (STDERR_FILENO, error)] {
                if case .discard = stream { continue }
                let (read, write) = try Self.pipe()
                childEnds[fd] = write
                readEnds.append((read, Stream(fd: fd, output: stream)))
            }
        } catch {
            closeAll()
            throw error
        }
    }

    func addActions(to actions: inout posix_spawn_file_actions_t) throws {
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            let failure = if let end = childEnds[fd] {
                posix_spawn_file_actions_adddup2(&actions, end, fd)
            } else {
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
            }
            guard failure == 0 else { throw HarnessError("posix_spawn file action for fd \(fd): \(String(cString: strerror(failure)))") }
        }
    }

    mutating func closeChildEnds() {
        childEnds.values.forEach { close($0) }
        childEnds = [:]
    }

    mutating func closeAll() {
        closeChildEnds()
        ([inputWriteEnd].compactMap { $0 } + readEnds.map(\.0)).forEach { close($0) }
        inputWriteEnd = nil
        readEnds = []
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard chiredis_pipe_cloexec(&ends, 0) == 0 else { throw HarnessError("pipe: \(String(cString: strerror(errno)))") }
        return (ends[0], ends[1])
    }
}
