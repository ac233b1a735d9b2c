@testable import CronlockCore
import Foundation
import Testing
import TestLoad

/// How a signal to cronlock is handled around the start of its command: before, the job must not
/// start; from the moment it is being started, the command gets the signal (it may have a trap to
/// clean up), and the run is not cancelled (that would SIGKILL the command's group).
@Suite("Signals around the start of the command", .load(.timed))
struct SignalStateTests {
    @Test func aSignalBeforeTheStartKeepsTheCommandFromStarting() async {
        let signals = SignalState()
        let run = Task<Int32, Never> { await Self.idle() }
        signals.runStarted(run)
        signals.deliver(SIGTERM)
        #expect(run.isCancelled, "the run is cancelled, so it releases what it took")
        #expect(!signals.commandStarting(), "and the command is not started")
        #expect(signals.received == SIGTERM)
    }

    @Test func aSignalWhileTheCommandIsBeingStartedReachesItAndDoesNotCancelTheRun() async throws {
        let signals = SignalState()
        let run = Task<Int32, Never> { await Self.idle() }
        defer { run.cancel() }
        signals.runStarted(run)
        #expect(signals.commandStarting())
        signals.deliver(SIGTERM)  // as if it came while RunningCommand.start was under way
        #expect(!run.isCancelled, "cancelling the run would SIGKILL a command that may already run")

        let scratch = try Scratch()
        let command = try RunningCommand.start(
            ["sh", "-c", "trap 'echo got > \(scratch.file("got")); exit 3' TERM; touch \(scratch.file("up")); i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 9"],
            environment: ProcessEnvironment.current())
        try await scratch.waitFor("up")
        signals.commandStarted(command)
        #expect(await command.waitForExit() == .exited(3), "the command's trap ran (9: no signal within 10 s)")
        #expect(scratch.read("got") == "got\n")
        signals.commandFinished()

        signals.deliver(SIGINT)
        #expect(run.isCancelled, "once the command is over, a signal cancels the run again")
    }

    @Test func aCommandThatCouldNotStartLeavesSignalsCancellingTheRun() async {
        let signals = SignalState()
        let run = Task<Int32, Never> { await Self.idle() }
        signals.runStarted(run)
        #expect(signals.commandStarting())
        signals.commandFinished()  // RunningCommand.start threw
        signals.deliver(SIGHUP)
        #expect(run.isCancelled)
    }

    /// A run that does nothing until cancelled.
    private static func idle() async -> Int32 {
        try? await Task.sleep(for: .seconds(60))
        return 0
    }
}
