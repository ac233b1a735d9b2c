import CSpawn
import CronlockCore
import Foundation
import Synchronization
import Testing
import TestLoad

/// Real processes through `RunningCommand` (and, for the parent-death guarantee, `cspawn_start`
/// from a forked child that is then SIGKILLed). No Redis needed.
@Suite("Process control", .load(.timed))
struct ProcessControlTests {
    let environment = ProcessEnvironment.current()

    // MARK: Exit status

    @Test func exitCodePassesThrough() async throws {
        let command = try RunningCommand.start(["sh", "-c", "exit 7"], environment: environment)
        async let first = command.waitForExit()
        async let second = command.waitForExit()
        let (termination, again) = await (first, second)
        #expect(termination == .exited(7))
        #expect(again == .exited(7))
        #expect(termination.shellExitCode == 7)
    }

    @Test func deathBySignalIsReportedAsTheSignal() async throws {
        let command = try RunningCommand.start(["sh", "-c", "kill -TERM $$"], environment: environment)
        let termination = await command.waitForExit()
        #expect(termination == .signaled(SIGTERM))
        #expect(termination.shellExitCode == 143)
    }

    // MARK: Start failures

    @Test func commandMissingFromPathIsNotFound() throws {
        let name = "cronlock-no-such-command-\(UUID().uuidString)"
        let failure = #expect(throws: SpawnFailure.self) {
            try RunningCommand.start([name], environment: environment)
        }
        #expect(failure?.kind == .notFound)
        #expect(failure?.exitCode == 127)
        #expect(failure?.command == name)
        #expect(failure?.description == "\(name): command not found (searched PATH)")
    }

    @Test func emptyCommandIsNotFound() throws {
        let failure = #expect(throws: SpawnFailure.self) {
            try RunningCommand.start([], environment: environment)
        }
        #expect(failure?.exitCode == 127)
    }

    @Test func missingPathIsNotFound() throws {
        let failure = #expect(throws: SpawnFailure.self) {
            try RunningCommand.start(["/nonexistent/cronlock/job.sh"], environment: environment)
        }
        #expect(failure?.kind == .notFound)
        #expect(failure?.exitCode == 127)
        #expect(failure?.errorNumber == ENOENT)
    }

    @Test func fileWithoutExecuteBitIsNotExecutable() throws {
        let directory = try Scratch()
        let script = try directory.write("job.sh", "#!/bin/sh\nexit 0\n", permissions: 0o644)
        let byPath = #expect(throws: SpawnFailure.self) {
            try RunningCommand.start([script], environment: environment)
        }
        #expect(byPath?.kind == .notExecutable)
        #expect(byPath?.exitCode == 126)
        #expect(byPath?.errorNumber == EACCES)
        #expect(byPath?.description == "\(script): cannot execute: Permission denied")

        // Found on PATH but not executable: 126 as well (execvp's EACCES), not 127.
        let byName = #expect(throws: SpawnFailure.self) {
            try RunningCommand.start(["job.sh"], environment: ["PATH": directory.path])
        }
        #expect(byName?.kind == .notExecutable)
        #expect(byName?.exitCode == 126)
    }

    @Test func scriptWithMissingInterpreterIsNotExecutable() async throws {
        let directory = try Scratch()
        let script = directory.file("job.sh")
        // Written by another process: a file this process has open for writing could be inherited
        // by a parallel test's fork for an instant, and exec would fail with ETXTBSY instead.
        let writer = try RunningCommand.start(
            ["sh", "-c", "printf '#!/nonexistent/interpreter\\n' > \(script); chmod 755 \(script)"], environment: environment)
        #expect(await writer.waitForExit() == .exited(0))
        let failure = #expect(throws: SpawnFailure.self) {
            try RunningCommand.start([script], environment: environment)
        }
        #expect(failure?.kind == .notExecutable)
        #expect(failure?.exitCode == 126)
        #expect(failure?.description.contains("interpreter") == true)
    }

    // MARK: What the command inherits

    @Test func environmentIsExactlyTheOneGiven() async throws {
        let directory = try Scratch()
        let output = directory.file("environment")
        let command = try RunningCommand.start(
            ["sh", "-c", "echo \"$CRONLOCK_KEY ${HOME-unset}\" > \(output)"],
            environment: ["CRONLOCK_KEY": "cronlock:job", "PATH": "/usr/bin:/bin"])
        #expect(await command.waitForExit() == .exited(0))
        #expect(directory.read("environment") == "cronlock:job unset\n")
    }

    @Test func currentEnvironmentKeepsInheritedVariablesAndAddsNewOnes() {
        let merged = ProcessEnvironment.current(adding: ["CRONLOCK_KEY": "cronlock:job"])
        #expect(merged["CRONLOCK_KEY"] == "cronlock:job")
        #expect(merged["PATH"] == ProcessInfo.processInfo.environment["PATH"])
    }

    @Test func standardDescriptorsPassThroughUntouched() async throws {
        let directory = try Scratch()
        let output = directory.file("descriptors")
        // The shell's own 0, 1 and 2: the substitutions are expanded before the redirection applies.
        let script = "printf '%s\\n' \"$(readlink /proc/$$/fd/0)\" \"$(readlink /proc/$$/fd/1)\" \"$(readlink /proc/$$/fd/2)\" > \(output)"
        let command = try RunningCommand.start(["sh", "-c", script], environment: environment)
        #expect(await command.waitForExit() == .exited(0))
        let ours = (0...2).map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "" }
        let theirs = directory.read("descriptors")
        #expect(theirs == ours.joined(separator: "\n") + "\n")
    }

    @Test func onlyStandardDescriptorsAreInherited() async throws {
        let directory = try Scratch()
        let output = directory.file("fds")
        let leaked = open("/dev/null", O_RDONLY) // deliberately without O_CLOEXEC
        #expect(leaked >= 0)
        defer { close(leaked) }
        let command = try RunningCommand.start(["sh", "-c", "ls /proc/self/fd > \(output)"], environment: environment)
        #expect(await command.waitForExit() == .exited(0))
        // 0, 1, 2, and the descriptor `ls` itself opens on /proc/self/fd.
        #expect(directory.read("fds") == "0\n1\n2\n3\n")
    }

    @Test func commandStartsWithDefaultSignalsAndAnEmptyMask() async throws {
        let directory = try Scratch()
        let output = directory.file("signals")
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let started = Result { () throws(SpawnFailure) in
            try RunningCommand.start(["sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status > \(output)"], environment: environment)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let command = try started.get()
        #expect(await command.waitForExit() == .exited(0))
        let status = directory.read("signals")
        #expect(status == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")
    }

    // MARK: Process group and guard

    @Test func commandRunsInItsOwnProcessGroupUnderTheGuardInASessionOfItsOwn() async throws {
        let directory = try Scratch()
        let output = directory.file("stat")
        let command = try RunningCommand.start(
            ["sh", "-c", "cat /proc/$$/stat /proc/$PPID/stat > \(output)"], environment: environment)
        #expect(await command.waitForExit() == .exited(0))
        // Each line: pid (comm) state ppid pgrp session ...
        let lines = directory.read("stat").split(separator: "\n").map { $0.split(separator: " ") }
        try #require(lines.count == 2)
        let (shell, guardProcess) = (lines[0], lines[1])
        #expect(Int32(shell[0]) == command.processGroup, "the group is named after the command")
        #expect(Int32(shell[4]) == command.processGroup)
        #expect(Int32(shell[4]) != getpgrp())
        #expect(guardProcess[1] == "(cronlock-guard)", "the guard is named in ps and top")
        #expect(Int32(guardProcess[3]) == getpid(), "the command's parent is the guard, our child")
        #expect(Int32(guardProcess[4]) != getpgrp(), "the guard is out of this process's group")
        #expect(Int32(guardProcess[5]) != getsid(0), "and out of its session")
        #expect(Int32(guardProcess[4]) != command.processGroup, "and out of the command's group")
        // Scheduling policy, the 41st field (SCHED_OTHER 0, SCHED_FIFO 1): the guard runs real-time
        // where allowed (root here), the command never does.
        #expect(shell[40] == "0", "the command runs at the normal policy")
        if getuid() == 0 { #expect(guardProcess[40] == "1", "the guard runs at SCHED_FIFO when it may") }
    }

    @Test func signalsToTheTreeReachTheCommand() async throws {
        let directory = try Scratch()
        let ready = directory.file("ready")
        let script = "exec 2>/dev/null; trap 'exit 5' USR1; trap 'exit 6' USR2; echo > \(ready); while :; do sleep 0.05; done"
        let first = try RunningCommand.start(["sh", "-c", script], environment: environment)
        try await directory.waitFor("ready")
        first.signalTree(SIGUSR1)
        #expect(await first.waitForExit() == .exited(5))

        try FileManager.default.removeItem(atPath: ready)
        let second = try RunningCommand.start(["sh", "-c", script], environment: environment)
        try await directory.waitFor("ready")
        second.signalTree(SIGUSR2)
        #expect(await second.waitForExit() == .exited(6))
    }

    @Test func commandOutlivesTheThreadThatStartedIt() async throws {
        let environment = self.environment
        let command = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RunningCommand, any Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try RunningCommand.start(["sh", "-c", "sleep 0.5; exit 3"], environment: environment) })
            }
            thread.start()
        }
        // The starting thread exits at once; the guard watches its control socket, which stays
        // open while this process lives, and leaves the command running.
        #expect(await command.waitForExit() == .exited(3))
    }

    @Test func waitForExitWaitsForAGrandchildThatOutlivesTheCommand() async throws {
        let directory = try Scratch()
        let output = directory.file("done")
        let clock = ContinuousClock()
        let start = clock.now
        let command = try RunningCommand.start(["sh", "-c", "(sleep 0.5; echo done > \(output)) & exit 0"], environment: environment)
        #expect(await command.waitForExit() == .exited(0))
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(clock.now - start >= .milliseconds(400))
    }

    // MARK: Stopping

    @Test func stopKillsGrandchildrenToo() async throws {
        let directory = try Scratch()
        let output = directory.file("pids")
        let script = "sleep 100 & echo $! > \(output).tmp; sleep 100 & echo $! >> \(output).tmp; mv \(output).tmp \(output); wait"
        let command = try RunningCommand.start(["sh", "-c", script], environment: environment)
        try await directory.waitFor("pids")
        let grandchildren = directory.read("pids").split(separator: "\n").compactMap { pid_t($0) }
        #expect(grandchildren.count == 2)
        #expect(grandchildren.allSatisfy { !isGone($0) })

        let termination = await command.stop(grace: .seconds(5))
        #expect(termination == .signaled(SIGTERM))
        for pid in grandchildren {
            #expect(isGone(pid), "grandchild \(pid) is gone, not even a zombie")
        }
        #expect(isGone(-command.processGroup))
    }

    @Test func stopReturnsAsSoonAsTheGroupEndsOnTerm() async throws {
        let command = try RunningCommand.start(["sleep", "100"], environment: environment)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await command.stop(grace: .seconds(30)) == .signaled(SIGTERM))
        #expect(clock.now - start < .seconds(5))
    }

    @Test func commandIgnoringTermIsKilledAfterTheGrace() async throws {
        let directory = try Scratch()
        let ready = directory.file("ready")
        let command = try RunningCommand.start(
            ["sh", "-c", "trap '' TERM; echo > \(ready); while :; do sleep 0.05; done"], environment: environment)
        try await directory.waitFor("ready")
        let clock = ContinuousClock()
        let start = clock.now
        let termination = await command.stop(grace: .milliseconds(300))
        #expect(termination == .signaled(SIGKILL))
        #expect(termination.shellExitCode == 137)
        #expect(clock.now - start >= .milliseconds(300))
        #expect(isGone(-command.processGroup))
    }

    @Test func killingTheTreeEndsTheWaitPromptly() async throws {
        // What cronlock does when the lock is lost: SIGKILL to the tree, then wait for it.
        let command = try RunningCommand.start(["sh", "-c", "sleep 100 & sleep 100"], environment: environment)
        let clock = ContinuousClock()
        let start = clock.now
        command.signalTree(SIGKILL)
        #expect(await command.waitForExit() == .signaled(SIGKILL))
        #expect(clock.now - start < .seconds(2), "the guard reaps the killed orphans at once")
        #expect(isGone(-command.processGroup))
        command.signalTree(SIGKILL) // a no-op once the tree is gone
    }

    // MARK: Parent death

    /// The guarantee behind "SIGKILL of cronlock stops the command": a forked child of this test
    /// process starts `sleep` through `cspawn_start` (only async-signal-safe C runs after the fork;
    /// the C strings are prepared before it) and is then SIGKILLed. The guard sees its control
    /// socket close and must kill the whole tree.
    @Test func groupIsKilledWhenTheStartingProcessIsKilled() async throws {
        let directory = try Scratch()
        let pidFile = directory.file("pid")
        let argv = CStrings(["/bin/sh", "-c", "echo $$ > \(pidFile).tmp; mv \(pidFile).tmp \(pidFile); exec sleep 300"])
        let envp = CStrings(["PATH=/usr/bin:/bin"])
        let starter = fork()
        if starter == 0 {
            var result = cspawn_result()
            cspawn_start(argv.pointers[0], argv.pointers, envp.pointers, -1, -1, cspawn_lease(deadline: 0, margin: 0), &result)
            while true { pause() }
        }
        #expect(starter > 0)
        defer {
            kill(starter, SIGKILL)
            var status: Int32 = 0
            waitpid(starter, &status, 0)
        }
        try await directory.waitFor("pid")
        let command = try #require(pid_t(directory.read("pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isRunning(command))

        kill(starter, SIGKILL)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while isRunning(command), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(!isRunning(command), "sleep \(command) must die with the process that started it")
    }

    /// True when no process (not even a zombie) answers to `pid` (a process group when negative).
    func isGone(_ pid: pid_t) -> Bool {
        kill(pid, 0) == -1 && errno == ESRCH
    }

}

/// NULL-terminated C strings prepared before a `fork`, freed when the value goes away.
private final class CStrings {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}
