/// How a command ended: the status of the whole process group's leader, as a shell would see it.
package enum Termination: Sendable, Equatable {
    /// The command exited with this code (0–255).
    case exited(Int32)
    /// A signal killed the command; the associated value is the signal number (e.g. 15 for SIGTERM).
    case signaled(Int32)

    /// The exit code a shell reports for this termination: the code itself, or 128 + the signal
    /// number (143 for SIGTERM, 137 for SIGKILL).
    package var shellExitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): CronlockExit.signaled(signal)
        }
    }
}
