@testable import CronlockCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How a run ends, from what happened: outcome, exit code and error line, with no process.
@Suite("RunConclusion: a run's outcome and exit code")
struct RunConclusionTests {
    typealias End = RunConclusion.CommandEnd

    static func end(_ termination: Termination = .exited(0), _ change: (inout End) -> Void = { _ in }) -> RunConclusion.Happening {
        var end = End(command: "backup", termination: termination)
        change(&end)
        return .ended(end)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var happening: RunConclusion.Happening
        var expected: RunConclusion
        var testDescription: String { name }
    }

    static let stop = StopRequest(by: "ops@host-b", reason: "maintenance")

    static let table: [Case] = [
        Case(name: "exit 0", happening: end(), expected: RunConclusion(outcome: .ok, exitCode: 0)),
        Case(name: "exit 3 passes through", happening: end(.exited(3)), expected: RunConclusion(outcome: .failed, exitCode: 3)),
        Case(name: "killed by its own SIGKILL", happening: end(.signaled(SIGKILL)), expected: RunConclusion(outcome: .signal, exitCode: 137)),
        Case(name: "fail pattern on exit 0", happening: end { $0.matchedFailPattern = true },
             expected: RunConclusion(outcome: .failed, exitCode: 81, error: "the output of backup matched --fail-pattern")),
        Case(name: "exit 2 wins over a fail pattern", happening: end(.exited(2)) { $0.matchedFailPattern = true },
             expected: RunConclusion(outcome: .failed, exitCode: 2)),
        Case(name: "timeout", happening: end(.signaled(SIGTERM)) { $0.timedOut = true },
             expected: RunConclusion(outcome: .timeout, exitCode: 124, error: "backup ran past --timeout and was stopped")),
        Case(name: "remote stop", happening: end(.signaled(SIGTERM)) { $0.stop = stop; $0.timedOut = true },
             expected: RunConclusion(outcome: .stopped, exitCode: 80, error: "backup was stopped by ops@host-b: maintenance")),
        Case(name: "remote stop without a reason", happening: end(.signaled(SIGTERM)) { $0.stop = StopRequest(by: "ops", reason: "") },
             expected: RunConclusion(outcome: .stopped, exitCode: 80, error: "backup was stopped by ops")),
        Case(name: "signal to cronlock", happening: end(.signaled(SIGTERM)) { $0.signal = SIGINT; $0.stop = stop },
             expected: RunConclusion(outcome: .signal, exitCode: 130)),
        Case(name: "lock lost", happening: end(.signaled(SIGKILL)) { $0.lockLost = true },
             expected: RunConclusion(outcome: .lost, exitCode: 79)),
        Case(name: "lease expired wins over everything", happening: end(.signaled(SIGKILL)) { $0.leaseExpired = true; $0.signal = SIGTERM; $0.lockLost = true },
             expected: RunConclusion(outcome: .lost, exitCode: 79)),
        Case(name: "signal before the start", happening: .notStarted(signal: SIGHUP), expected: RunConclusion(outcome: .signal, exitCode: 129)),
        Case(name: "cancelled before the start without a signal", happening: .notStarted(signal: nil), expected: RunConclusion(outcome: .signal, exitCode: 143)),
        Case(name: "not found", happening: .spawnFailed(exitCode: 127, message: "backup: not found", signal: nil),
             expected: RunConclusion(outcome: .failed, exitCode: 127, error: "backup: not found")),
        Case(name: "spawn failed while a signal came", happening: .spawnFailed(exitCode: 126, message: "backup: permission denied", signal: SIGTERM),
             expected: RunConclusion(outcome: .signal, exitCode: 143, error: "backup: permission denied")),
    ]

    @Test(arguments: table)
    func conclusion(_ testCase: Case) {
        #expect(RunConclusion(testCase.happening) == testCase.expected)
    }
}
