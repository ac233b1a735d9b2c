import FaultSupport
import Foundation
import RedisTestSupport
import Synchronization

/// A `FaultContender loop` process: its own `RedLockClient` in its own process, reporting every
/// critical section to the observer as it happens.
final class ContenderProcess: Sendable {
    private let child: SpawnedProcess
    private let tally = TallySlot()
    let name: String

    /// `environment`: added to the process's (the test CA for `rediss://` servers, as cronlock takes it).
    init(servers: [String], environment: [String: String], plan: ContenderPlan, observer: CriticalSectionObserver) throws {
        let name = plan.name
        self.name = name
        let tally = self.tally
        child = try BuiltProducts.start(BuiltProducts.faultContender, ["loop", "--servers", servers.joined(separator: ",")] + plan.arguments,
                                       adding: environment, input: .pipe) { line in
            if let report = CriticalSectionReport(line: line) {
                observer.record(.init(report, holder: name))
            } else if let final = ContenderTally(line: line) {
                tally.value.withLock { $0 = final }
            }
        }
    }

    /// Stops the process where it is (SIGSTOP), as a long GC pause or a stalled VM would.
    func pause() { child.signal(SIGSTOP) }
    /// SIGCONT after `pause()`.
    func resume() { child.signal(SIGCONT) }

    /// Asks the process to stop (closes its stdin), waits for it, and returns its tally.
    func stop() async throws -> ContenderTally {
        child.closeInput()
        guard let code = await child.exitCode(within: .seconds(30)) else { throw HarnessError("\(name) did not stop within 30 s") }
        guard code == 0, let final = tally.value.withLock({ $0 }) else {
            throw HarnessError("\(name) exited \(code) without its tally: \(child.standardError)")
        }
        return final
    }
}

/// The final tally a contender process prints, once its reader thread has seen it.
private final class TallySlot: Sendable {
    let value = Mutex<ContenderTally?>(nil)
}
