import ArgumentParser
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The executable's whole job: block the relayed signals, parse, run, exit with the right code.
/// Usage errors are one line on stderr and exit 64; `--help` goes to stdout and exits 0.
package enum CronlockMain {
    /// Runs cronlock with `arguments` (without the program name) and returns the exit code.
    /// `main` calls `SignalRelay.blockRelayedSignals()` before this, before any thread starts.
    package static func run(_ arguments: [String]) async -> Int32 {
        SignalRelay.start { SignalState.shared.deliver($0) }
        if StderrLogHandler.requestedFormat(in: arguments) == .json { StderrLogHandler.errorLinesAreJSON.store(true, ordering: .relaxed) }
        let effective: [String]
        do throws(ConfigError) {
            effective = try ConfigResolution.applying(to: arguments, environment: ProcessEnvironment.current())
        } catch {
            printError("\(error)")
            return CronlockExit.usage
        }
        do {
            var command: any ParsableCommand
            do {
                command = try CronlockCommand.parseAsRoot(effective)
            } catch where CronlockCommand.exitCode(for: error) == .validationFailure {
                guard let hint = UsageHints.hint(for: effective) else { throw error }
                printError(hint)
                return CronlockExit.usage
            }
            if let problem = UsageHints.problem(in: effective, parsed: command) {
                printError(problem)
                return CronlockExit.usage
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let failure as JobControlError {
            printError(failure.message)
            return failure.exitCode
        } catch {
            let code = CronlockCommand.exitCode(for: error).rawValue
            if code == 0 {
                print(CronlockCommand.fullMessage(for: error))
            } else if !(error is ExitCode) {
                printError(CronlockCommand.message(for: error))
            }
            return code
        }
    }

    /// The stderr logger for `--log-level` and `--log-format`.
    package static func makeLogger(_ options: ConnectionOptions) -> Logger {
        Logger(label: "cronlock") { label in StderrLogHandler(label: label, level: options.logLevel, format: options.logFormat) }
    }

    /// One line on stderr, prefixed `cronlock: ` (instead of the library's `redlock: `). Control
    /// characters (from a key or a server's reply) are escaped, so it stays one line. A server that
    /// wanted a password (`NOAUTH`) gets the hint the library cannot give: cronlock's options. With
    /// `--log-format json` the line is a JSON log object at level `error`.
    static func printError(_ message: String) {
        var text = message.hasPrefix("redlock: ") ? String(message.dropFirst("redlock: ".count)) : message
        if text.contains("NOAUTH") { text += "; give the password with --password-file FILE or CRONLOCK_PASSWORD" }
        if StderrLogHandler.errorLinesAreJSON.load(ordering: .relaxed) {
            return StderrLogHandler.emit(StderrLogHandler.jsonLine(level: .error, label: "cronlock", message: text))
        }
        var line = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                line += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                line.unicodeScalars.append(scalar)
            }
        }
        StderrLogHandler.emit("cronlock: \(line)\n")
    }
}
