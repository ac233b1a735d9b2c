/// How a run that took the lock ended, as recorded in its `finished` event.
package enum RunOutcome: String, Sendable, CaseIterable {
    /// The command exited 0 (and its output did not match `--fail-pattern`).
    case ok
    /// The command exited non-zero, or its output matched `--fail-pattern`.
    case failed
    /// `--timeout` passed and the command was stopped.
    case timeout
    /// The lock was lost while the command ran; its process group was killed.
    case lost
    /// `cronlock stop` stopped it from some host.
    case stopped
    /// A signal to cronlock (TERM, INT, HUP) stopped it, or it died of a signal of its own.
    case signal
}

/// The facts of one run, as events on the masters: `started` when the lock is taken, `finished`
/// when the command's process group is gone.
struct RunRecord: Sendable {
    let runID: String
    let keys: JobKeys
    let host: String
    let pid: Int32
    let command: String

    /// Fields of the `started` event, in order, for a lock taken at `startedAt` (Unix ms), with
    /// the lock's fencing token when fencing is on.
    func startedFields(at startedAt: Int64, fencingToken: UInt64? = nil) -> [(String, String)] {
        [("event", "started"), ("run", runID), ("key", keys.name), ("group", keys.group), ("host", host),
         ("pid", String(pid)), ("at", String(startedAt)), ("command", command)]
            + (fencingToken.map { [("fencing_token", String($0))] } ?? [])
    }

    /// What the `finished` event adds: the end as cronlock saw it.
    struct Ending: Sendable {
        var outcome: RunOutcome
        var exitCode: Int32
        /// When the lock was taken and when the command's group was gone, in Unix milliseconds.
        var startedAt: Int64
        var finishedAt: Int64
        var stoppedBy: String?
        var stopReason: String?
        var outputTail: String?
        /// The servers that failed the run's acquisition: a degraded run when not empty.
        var degraded: [DegradedServer] = []
        /// Every attempt, oldest first, when `--retry` was given (else empty).
        var attempts: [Attempt] = []

        var durationMilliseconds: Int64 { max(0, finishedAt - startedAt) }
    }

    /// Fields of the `finished` event, in order.
    func finishedFields(_ ending: Ending) -> [(String, String)] {
        var fields = runFields(event: "finished", at: ending.finishedAt)
        fields += [("started_at", String(ending.startedAt)),
                   ("duration_ms", String(ending.durationMilliseconds)),
                   ("outcome", ending.outcome.rawValue), ("exit", String(ending.exitCode))]
        if let stoppedBy = ending.stoppedBy { fields.append(("stopped_by", stoppedBy)) }
        if let stopReason = ending.stopReason, !stopReason.isEmpty { fields.append(("stop_reason", stopReason)) }
        if let outputTail = ending.outputTail { fields.append(("output", outputTail)) }
        if !ending.degraded.isEmpty { fields.append(("degraded", DegradedServer.field(ending.degraded))) }
        if !ending.attempts.isEmpty { fields.append(("attempts", Attempt.text(ending.attempts))) }
        return fields
    }

    /// One attempt of a run under `--retry`: how it ended and how long it took.
    struct Attempt: Sendable, Equatable {
        var outcome: RunOutcome
        var exitCode: Int32
        var durationMilliseconds: Int64

        /// The `attempts` field of a `finished` event: `outcome/exit/duration_ms` per attempt,
        /// separated by spaces (`failed/1/120 ok/0/95`).
        static func text(_ attempts: [Attempt]) -> String {
            attempts.map { "\($0.outcome.rawValue)/\($0.exitCode)/\($0.durationMilliseconds)" }.joined(separator: " ")
        }

        /// The attempts of an `attempts` field; entries that do not parse are left out.
        static func parse(_ text: String) -> [Attempt] {
            text.split(separator: " ").compactMap { entry in
                let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 3, let outcome = RunOutcome(rawValue: String(parts[0])), let exitCode = Int32(parts[1]),
                      let duration = Int64(parts[2]) else { return nil }
                return Attempt(outcome: outcome, exitCode: exitCode, durationMilliseconds: duration)
            }
        }
    }

    /// Fields of the `lost` event: the lock was found gone at the release, after `finished`.
    func lostFields(at now: Int64) -> [(String, String)] {
        runFields(event: "lost", at: now) + [("outcome", RunOutcome.lost.rawValue), ("exit", String(CronlockExit.lockLost))]
    }

    /// The run's own fields (job, host, command, run id) under `event` at `at`.
    private func runFields(event: String, at: Int64) -> [(String, String)] {
        [("event", event)] + startedFields(at: at).filter { $0.0 != "event" && $0.0 != "at" } + [("at", String(at))]
    }

    /// A fresh run id: 64 bits from the system CSPRNG, as 16 hex digits. Not the lock's token
    /// (which would let anyone who reads the history release the lock).
    static func makeRunID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
