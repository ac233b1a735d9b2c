import ArgumentParser
import CronlockCore
import Foundation
import Hummingbird
import Logging

/// `cronlock-web`: the dashboard and HTTP API over the jobs cronlock keeps on the masters. Reads
/// the same connection options as `cronlock` (`--server`/`CRONLOCK_SERVERS`, `--password-file`/
/// `CRONLOCK_PASSWORD`, `--prefix`), holds no state of its own, and stops cleanly on SIGTERM/SIGINT.
package struct CronlockWebCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "cronlock-web",
        abstract: "Serve the cronlock dashboard and its HTTP API (/api/v1, /metrics) for the jobs under --prefix.",
        discussion: """
            Without token files the dashboard is read-only for everyone who can reach it. With \
            --viewer-token-file, reading needs a token; with --operator-token-file, pause, resume and stop \
            need the operator's token (bearer header for the API, the login form for the pages). \
            Exit 0 after SIGTERM or SIGINT, 64 on bad options, 1 when it cannot listen.
            """)

    @OptionGroup package var connection: ConnectionOptions

    @Option(help: "Address to listen on. (default: 127.0.0.1; put a TLS reverse proxy in front for other hosts)")
    package var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    package var port: Int = 8080

    @Option(help: "File whose first line is the token that may read the dashboard and API.")
    package var viewerTokenFile: String?

    @Option(help: "File whose first line is the token that may also pause, resume and stop jobs.")
    package var operatorTokenFile: String?

    @Option(help: ArgumentHelp("Run `sh -c CMD` once for each lateness of a job with --expect-every, with CRONLOCK_EVENT=late and the job's facts in its environment.",
                               valueName: "CMD"))
    package var notifyLate: String?

    @Option(help: "Stop a --notify-late command that runs longer than this.")
    package var notifyTimeout: DurationText = DurationText(argument: "30s")!

    @Option(help: "How often to look for late jobs (those with --expect-every) and announce them. (default: 15s)")
    package var lateCheckEvery: DurationText?

    package init() {}

    /// Parses `arguments` (without the program name), serves until SIGTERM or SIGINT, and returns
    /// the exit code: 0; 64 after one line on stderr for bad options; 1 when it cannot listen.
    package static func main(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if let served = command as? CronlockWebCommand {
                try await served.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            let code = exitCode(for: error).rawValue
            if code == 0 {
                print(fullMessage(for: error))
            } else {
                FileHandle.standardError.write(Data("cronlock-web: \(message(for: error))\n".utf8))
            }
            return code
        }
    }

    package func validate() throws {
        guard connection.key == nil else { throw ValidationError("cronlock-web serves every job under --prefix; it takes no --key") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        guard notifyTimeout.duration > .zero else { throw ValidationError("--notify-timeout must be positive") }
        if let lateCheckEvery, lateCheckEvery.duration < .milliseconds(100) {
            throw ValidationError("--late-check-every must be at least 100ms, not \(lateCheckEvery)")
        }
    }

    package func run() async throws {
        let settings = try WebSettings(self)
        let dashboard = try Dashboard(settings: settings)
        let lateWatch = LateWatch(dashboard: dashboard, interval: lateCheckEvery?.duration ?? LateWatch.defaultInterval,
                                  notify: notifyLate.map { NotifyPlan(command: $0, when: .always, timeout: notifyTimeout.duration, option: "--notify-late") })
        let application = try WebApplication.make(dashboard: dashboard, settings: settings, services: [lateWatch]) { port in
            FileHandle.standardOutput.write(Data("cronlock-web listening on http://\(settings.host):\(port)\n".utf8))
        }
        do {
            try await application.runService()
        } catch {
            await dashboard.shutdown()
            throw error
        }
        await dashboard.shutdown()
    }
}
