import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Where each option's value comes from: the command line, then the environment, then the job's
/// section of the configuration file, then the file's top level, then the built-in default.
///
/// The file's values reach the options as arguments: `applying(to:environment:)` adds, for each
/// setting the command line does not give and the environment does not override, the option
/// with the file's value, so they are parsed and checked like the command line's own.
enum ConfigResolution {
    /// The configuration file read when neither `--config` nor `CRONLOCK_CONFIG` names one.
    static let defaultPath = "/etc/cronlock/cronlock.toml"

    /// Where a value came from.
    enum Source: Equatable, CustomStringConvertible {
        case commandLine
        case environment(String)
        case jobSection(path: String, line: Int?, job: String)
        case fileDefault(path: String, line: Int?)
        case builtIn

        var description: String {
            switch self {
            case .commandLine: "command line"
            case .environment(let variable): "environment \(variable)"
            case .jobSection(let path, let line, let job): "\(path)\(line.map { ":\($0)" } ?? "") [job.\(job)]"
            case .fileDefault(let path, let line): "\(path)\(line.map { ":\($0)" } ?? "")"
            case .builtIn: "built-in default"
            }
        }
    }

    /// The environment variable that overrides `setting`, when it does.
    static func environmentVariable(for setting: ConfigSetting, in environment: [String: String]) -> String? {
        let variable = switch setting.name {
        case "servers": "CRONLOCK_SERVERS"
        case "password-file": "CRONLOCK_PASSWORD"
        case "tls-ca-file": "CRONLOCK_TLS_CA_FILE"
        case "tls-cert-file": "CRONLOCK_TLS_CERT_FILE"
        case "tls-key-file": "CRONLOCK_TLS_KEY_FILE"
        default: ""
        }
        guard let value = environment[variable], !value.allSatisfy(\.isWhitespace) else { return nil }
        return variable
    }

    /// The configuration file to read: `--config FILE`, else `CRONLOCK_CONFIG` (empty: none),
    /// else `defaultPath` when it exists. Only an explicitly named file is required to exist.
    static func filePath(arguments: [String], environment: [String: String]) -> String? {
        if let path = optionValue("--config", in: arguments) { return path }
        if let path = environment["CRONLOCK_CONFIG"] { return path.isEmpty ? nil : path }
        return access(defaultPath, F_OK) == 0 ? defaultPath : nil
    }

    /// `arguments` with the configuration file's values added for the options they do not give
    /// (nothing when there is no file, which is then not parsed at all). The settings a command
    /// takes: the connection's for every subcommand that talks to the masters, and the run
    /// options too (from the `--key`'s section, then the top level) for running a command.
    static func applying(to arguments: [String], environment: [String: String]) throws(ConfigError) -> [String] {
        let subcommand = arguments.first.flatMap { first in
            CronlockCommand.configuration.subcommands.map { $0.configuration.commandName }.first { $0 == first }
        }
        if subcommand == DemoCommand.configuration.commandName || subcommand == ConfigCommand.configuration.commandName { return arguments }
        guard let path = filePath(arguments: arguments, environment: environment) else { return arguments }
        let file = try ConfigFile.load(path)
        let scopes: [ConfigSetting.Scope] = subcommand == nil ? [.connection, .run] : [.connection]
        if subcommand == nil { try checkNotify(arguments: arguments, environment: environment, file: file) }
        let job = optionValue("--key", in: arguments)
        var added: [String] = []
        for setting in ConfigSetting.all where scopes.contains(setting.scope) {
            let source = resolve(setting, arguments: arguments, environment: environment, file: file)
            guard let entry = file.entry(setting.name, for: job, at: source) else { continue }
            if setting.kind == .flag {
                if entry.values == ["true"] { added.append(setting.option) }
            } else {
                added += entry.values.flatMap { [setting.option, $0] }
            }
        }
        if subcommand != nil { return [arguments[0]] + added + arguments.dropFirst() }
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        return Array(arguments[..<terminator]) + added + arguments[terminator...]
    }

    /// Throws when `file` gives the job a `notify-on` but no layer gives it a `notify`: the same
    /// usage error as `--notify-on` without `--notify`, naming the file, line and key.
    static func checkNotify(arguments: [String], environment: [String: String], file: ConfigFile) throws(ConfigError) {
        guard let rule = ConfigSetting.named("notify-on"), let command = ConfigSetting.named("notify") else { return }
        let job = optionValue("--key", in: arguments)
        let source = resolve(rule, arguments: arguments, environment: environment, file: file)
        guard let entry = file.entry(rule.name, for: job, at: source),
              resolve(command, arguments: arguments, environment: environment, file: file) == .builtIn else { return }
        let key = if case .jobSection(_, _, let job) = source { "job.\(job).notify-on" } else { "notify-on" }
        throw ConfigError(path: file.path, line: entry.line, key: key,
                          problem: "needs notify, the command to run after the run (in the file or as --notify CMD)")
    }

    /// Where `setting`'s value comes from, given the command line, the environment and `file`.
    static func resolve(_ setting: ConfigSetting, arguments: [String], environment: [String: String], file: ConfigFile?) -> Source {
        if optionGiven(setting.option, in: arguments) { return .commandLine }
        if let variable = environmentVariable(for: setting, in: environment) { return .environment(variable) }
        if let file {
            if setting.scope == .run, let job = optionValue("--key", in: arguments), let entry = file.jobs[job]?[setting.name] {
                return .jobSection(path: file.path, line: entry.line, job: job)
            }
            if let entry = file.defaults[setting.name] { return .fileDefault(path: file.path, line: entry.line) }
        }
        return .builtIn
    }

    /// Whether the options before `--` give `option` (`--name VALUE` or `--name=VALUE`).
    private static func optionGiven(_ option: String, in arguments: [String]) -> Bool {
        options(arguments).contains { $0 == option || $0.hasPrefix(option + "=") }
    }

    /// The value the options before `--` give `option`, the last one when repeated.
    static func optionValue(_ option: String, in arguments: [String]) -> String? {
        let options = options(arguments)
        var value: String?
        for (index, argument) in options.enumerated() {
            if argument == option, index + 1 < options.count {
                value = options[index + 1]
            } else if argument.hasPrefix(option + "=") {
                value = String(argument.dropFirst(option.count + 1))
            }
        }
        return value
    }

    private static func options(_ arguments: [String]) -> ArraySlice<String> {
        arguments[..<(arguments.firstIndex(of: "--") ?? arguments.endIndex)]
    }
}

extension ConfigFile {
    /// The entry of `setting` that `source` names (the job's section or the top level), or nil.
    func entry(_ setting: String, for job: String?, at source: ConfigResolution.Source) -> Entry? {
        switch source {
        case .jobSection: job.flatMap { jobs[$0]?[setting] }
        case .fileDefault: defaults[setting]
        default: nil
        }
    }
}
