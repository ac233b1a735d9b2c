import Foundation

/// A child process with stdin, stdout and stderr on pipes; stdout is delivered line by line.
/// Every wait happens on a thread of its own, never on the cooperative pool.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let finished = DispatchGroup()
    private let lock = NSLock()
    private var errorText = Data()

    /// Starts `executable` with `arguments`; `onLine` gets each stdout line (without its newline)
    /// on a reader thread, as it arrives.
    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
         onLine: @escaping @Sendable (Substring) -> Void) throws {
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        // Never the default 127.0.0.1:6379 (Debian's own redis-server): a socket that cannot exist,
        // as the cronlock suite does, unless the child is given servers.
        merged["CRONLOCK_SERVERS"] = "unix:///nonexistent/cronlock-test-servers-must-be-given.sock"
        merged["CRONLOCK_PASSWORD"] = nil
        merged.merge(environment) { $1 }
        process.environment = merged
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let reader = output.fileHandleForReading
        let errorReader = errors.fileHandleForReading
        // Plain threads, not Dispatch: Dispatch's global queue has about one thread per core, and
        // readers blocked on pipes there would starve every other user of it.
        finished.enter()
        Thread { [finished] in
            Self.readLines(reader.fileDescriptor, onLine)
            try? reader.close()
            finished.leave()
        }.start()
        finished.enter()
        Thread { [self, finished] in
            let data = errorReader.readDataToEndOfFile()
            try? errorReader.close()
            lock.withLock { errorText.append(data) }
            finished.leave()
        }.start()
    }

    /// What the child wrote on stderr so far.
    var standardError: String { lock.withLock { String(decoding: errorText, as: UTF8.self) } }

    /// Closes the child's stdin (a contender process stops at end of input).
    func closeInput() { try? input.fileHandleForWriting.close() }

    /// Waits until the child exited and its output was read; returns the shell-style exit code
    /// (128+n for signal n), or `nil` after `limit` (the child is then killed).
    func exitCode(within limit: Duration) async -> Int32? {
        let process = self.process
        let finished = self.finished
        return await withCheckedContinuation { continuation in
            Thread {
                let seconds = Double(limit.nanosecondsRoundedDown) / 1e9
                guard finished.wait(timeout: .now() + seconds) == .success else {
                    kill(process.processIdentifier, SIGKILL)
                    continuation.resume(returning: nil)
                    return
                }
                process.waitUntilExit()
                let status = process.terminationStatus
                continuation.resume(returning: process.terminationReason == .uncaughtSignal ? 128 + status : status)
            }.start()
        }
    }

    private static func readLines(_ fd: Int32, _ onLine: (Substring) -> Void) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                onLine(Substring(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { onLine(Substring(decoding: pending, as: UTF8.self)) }
    }
}
