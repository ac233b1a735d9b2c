import ArgumentParser
import RedLock

/// `cronlock config --key NAME [--config FILE]`: the effective configuration of a job, each value
/// with where it comes from.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show a job's effective settings and where each comes from (command line, environment, configuration file and line, built-in default).",
        discussion: """
            Precedence: command line > environment (CRONLOCK_SERVERS, CRONLOCK_PASSWORD, CRONLOCK_TLS_CA_FILE, \
            CRONLOCK_TLS_CERT_FILE, CRONLOCK_TLS_KEY_FILE) > the job's [job.NAME] section \
            > the file's top level > built-in defaults. The file is --config FILE, else $CRONLOCK_CONFIG (empty: none), \
            else /etc/cronlock/cronlock.toml when it exists. Passwords are never shown. Exit 0, or 64 for a bad file.
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        do throws(ConfigError) {
            try show()
        } catch {
            CronlockMain.printError("\(error)")
            throw ExitCode(CronlockExit.usage)
        }
    }

    private func show() throws(ConfigError) {
        let arguments = Array(CommandLine.arguments.dropFirst().drop { $0 != Self.configuration.commandName }.dropFirst())
        let environment = ProcessEnvironment.current()
        let path = ConfigResolution.filePath(arguments: arguments, environment: environment)
        let file = try path.map { path throws(ConfigError) in try ConfigFile.load(path) }
        if let file { try ConfigResolution.checkNotify(arguments: arguments, environment: environment, file: file) }
        // Parsing no arguments cannot fail: every option has a default or is optional.
        let defaults = try! CronlockCommand.parse([])
        let job = connection.key
        var rows = [("configuration file", path ?? "none", path == nil ? "no --config, CRONLOCK_CONFIG or \(ConfigResolution.defaultPath)" : "")]
        for setting in ConfigSetting.all {
            let source = ConfigResolution.resolve(setting, arguments: arguments, environment: environment, file: file)
            let values: [String]? = switch source {
            case .commandLine where setting.kind == .flag: ["true"]
            case .commandLine: setting.name == "servers" ? connection.servers : ConfigResolution.optionValue(setting.option, in: arguments).map { [$0] }
            case .environment(let variable): variable == "CRONLOCK_PASSWORD" ? ["(set; not shown)"] : environment[variable].map { [$0] }
            case .jobSection, .fileDefault: file?.entry(setting.name, for: job, at: source)?.values
            case .builtIn: setting.builtIn(defaults).map { [$0] }
            }
            let shown = (values ?? []).map { setting.name == "servers" ? Self.redacted($0) : $0 }
            rows.append((setting.name, shown.isEmpty ? "-" : shown.joined(separator: ", "), "\(source)"))
        }
        let width = rows.map(\.0.count).max() ?? 0
        let valueWidth = min(48, rows.map(\.1.count).max() ?? 0)
        print(rows.map { name, value, source in
            let padded = name + String(repeating: " ", count: width - name.count)
            let paddedValue = value + String(repeating: " ", count: max(0, valueWidth - value.count))
            return "\(padded)  \(paddedValue)  \(source)".trimmingWhitespaceAtEnd
        }.joined(separator: "\n"))
    }

    /// A server list's URLs with their passwords replaced by `***`.
    private static func redacted(_ list: String) -> String {
        list.split(separator: ",").map { item in
            let text = String(item.trimmingWhitespace)
            return (try? RedisServerAddress(parsing: text))?.description ?? "(not a server address)"
        }.joined(separator: ", ")
    }
}

extension String {
    fileprivate var trimmingWhitespaceAtEnd: String {
        String(self[..<(lastIndex { !$0.isWhitespace }.map(index(after:)) ?? startIndex)])
    }
}
