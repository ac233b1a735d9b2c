/// A job-control operation the masters could not carry out: cronlock's exit code for it and one
/// line saying why (naming the server where one is to blame). `cronlock` prints the line and exits
/// with the code; the dashboard answers with the matching HTTP status.
package struct JobControlError: Error, CustomStringConvertible, Sendable {
    /// The documented exit code (`CronlockExit`): usage, noQuorum, permissionDenied, notRunning or
    /// stopNotConfirmed.
    package let exitCode: Int32
    /// One line for a person; never holds a password or a lock token.
    package let message: String

    package init(_ exitCode: Int32, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    package var description: String { message }
}
