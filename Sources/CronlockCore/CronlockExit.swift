/// cronlock's documented exit codes (besides the command's own, passed through).
package enum CronlockExit {
    /// Usage or configuration error: unknown flag, missing `--key` or command, bad URL, bad duration (EX_USAGE).
    package static let usage: Int32 = 64
    /// No quorum: servers unreachable, refusing, auth failed, erroring; with `--wait`, for
    /// `--wait-unreachable` (EX_UNAVAILABLE).
    package static let noQuorum: Int32 = 69
    /// Default when the lock is held elsewhere (skipped, or `--wait` ran out) (EX_TEMPFAIL); `-E` changes it.
    package static let heldElsewhere: Int32 = 75
    /// The lock was lost while the command ran; its process group was killed.
    package static let lockLost: Int32 = 79
    /// `cronlock stop` stopped the command from some host (SIGTERM to its group, SIGKILL after the grace).
    package static let stopped: Int32 = 80
    /// The command exited 0 but its output matched `--fail-pattern`.
    package static let failedByPattern: Int32 = 81
    /// Job control: a master's ACL denied the operation (`NOPERM`); the message names the server (EX_NOPERM).
    package static let permissionDenied: Int32 = 77
    /// `cronlock stop`: the job is not running (or its run's lock expired without a `finished`
    /// event: its host is presumed dead); nothing was stopped.
    package static let notRunning: Int32 = 1
    /// `cronlock stop`: the stop was asked for, but the run had not ended within `--wait` (EX_TEMPFAIL).
    package static let stopNotConfirmed: Int32 = 75
    /// `cronlock forget`: the job is running; nothing of it was removed (EX_TEMPFAIL).
    package static let jobRunning: Int32 = 75
    /// `cronlock jobs --overdue`: at least one job is late (see `--expect-every`).
    package static let overdue: Int32 = 1
    /// `--timeout` passed; the command was stopped.
    package static let timedOut: Int32 = 124
    /// The command exists but cannot be executed.
    package static let notExecutable: Int32 = 126
    /// The command was not found.
    package static let notFound: Int32 = 127

    /// 128 + the signal number, as shells report a death by signal.
    package static func signaled(_ signal: Int32) -> Int32 { 128 + signal }
}
