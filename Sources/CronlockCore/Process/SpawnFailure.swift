#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a command could not be started. Nothing of it keeps running: no process is left behind.
///
/// `description` is one line for a human, e.g. `nosuch: command not found (searched PATH)`.
package struct SpawnFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; it decides the exit code.
    package enum Kind: Sendable, Equatable {
        /// No such file: not on `PATH`, or nothing at the given path. Exit code 127.
        case notFound
        /// The file exists but cannot be executed: no execute permission, a directory, a `noexec`
        /// mount, not a valid executable, or its `#!` interpreter is missing. Exit code 126.
        case notExecutable
        /// The system refused to start it: `fork`, `pipe` or `execve` ran out of a resource
        /// (processes, memory, descriptors, argument size). Exit code 126, which shells and
        /// `env` use for "found but could not be invoked".
        case failed
        /// Less than the lease's margin of the lock's validity was left just before exec (the
        /// lock was taken too long ago, e.g. cronlock was stopped): not started. Exit code 79.
        case leaseTooShort
    }

    /// Where in starting the command the failure happened.
    enum Step: Sendable, Equatable {
        case resolve, prepare, guardSetUp, forkCommand, processGroup, lease, exec
    }

    /// What kind of failure this is.
    package let kind: Kind
    /// The command name as given (the first argument).
    package let command: String
    /// The `errno` value of the failure (`ENOENT`, `EACCES`, `EAGAIN`...).
    package let errorNumber: Int32
    let step: Step

    init(kind: Kind, command: String, errorNumber: Int32, step: Step) {
        self.kind = kind
        self.command = command
        self.errorNumber = errorNumber
        self.step = step
    }

    /// The system's text for `errorNumber`, e.g. `Permission denied`.
    package var reason: String { String(cString: strerror(errorNumber)) }

    /// The exit code cronlock reports: 127 for `notFound`, 126 for `notExecutable` and `failed`
    /// (POSIX shells' and `env`'s convention), 79 for `leaseTooShort` (the lock is as good as lost).
    package var exitCode: Int32 {
        switch kind {
        case .notFound: CronlockExit.notFound
        case .notExecutable, .failed: CronlockExit.notExecutable
        case .leaseTooShort: CronlockExit.lockLost
        }
    }

    /// One line saying what went wrong and, where useful, what to check.
    package var description: String {
        switch (kind, step) {
        case (.notFound, _) where !command.contains("/"):
            "\(command): command not found (searched PATH)"
        case (.notFound, _):
            "\(command): \(reason)"
        case (.notExecutable, .exec) where errorNumber == ENOENT || errorNumber == ENOTDIR:
            "\(command): cannot execute: its #! interpreter was not found (\(reason))"
        case (.notExecutable, _):
            "\(command): cannot execute: \(reason)"
        case (.failed, .exec):
            "\(command): cannot execute: \(reason)"
        case (.failed, _):
            "\(command): cannot start a process: \(reason)"
        case (.leaseTooShort, _):
            "\(command): not started: too little of the lock's validity was left (was cronlock stopped or starved?)"
        }
    }
}
