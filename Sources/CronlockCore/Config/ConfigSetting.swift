import ArgumentParser
import Logging
import RedLock

/// One setting of the configuration file: its TOML key (the long option's name), the option it
/// stands for, where it may appear, its TOML type, and how its value is checked.
struct ConfigSetting: Sendable {
    /// Where a setting may appear and which commands it reaches.
    enum Scope: Sendable {
        /// The file's top level only; every command that talks to the masters.
        case connection
        /// The top level (a default for every job) or a `[job.NAME]` section; running a command.
        case run
    }

    /// The TOML type a value must have.
    enum Kind: Sendable {
        case text, integer, flag, textList
        /// A size: an integer (bytes) or a string such as `4k`.
        case size
    }

    let name: String
    let option: String
    let scope: Scope
    let kind: Kind
    /// Why one value is not acceptable, or nil.
    let problem: @Sendable (String) -> String?
    /// The built-in default as `cronlock config` shows it, read off a parsed command with no options.
    let builtIn: @Sendable (CronlockCommand) -> String?

    private init(_ name: String, option: String? = nil, _ scope: Scope, _ kind: Kind = .text,
                 problem: @escaping @Sendable (String) -> String? = { _ in nil },
                 builtIn: @escaping @Sendable (CronlockCommand) -> String? = { _ in nil }) {
        self.name = name
        self.option = option ?? "--\(name)"
        self.scope = scope
        self.kind = kind
        self.problem = problem
        self.builtIn = builtIn
    }

    /// The setting named `name`, or nil.
    static func named(_ name: String) -> ConfigSetting? { all.first { $0.name == name } }

    /// Every setting the file may hold, in the order `cronlock config` shows them.
    static let all: [ConfigSetting] = [
        ConfigSetting("servers", option: "--server", .connection, .textList, problem: serverProblem, builtIn: { _ in nil }),
        ConfigSetting("password-file", .connection),
        ConfigSetting("prefix", .connection, builtIn: { $0.connection.prefix }),
        ConfigSetting("log-level", .connection, problem: choice(Logger.Level.allCases), builtIn: { $0.connection.logLevel.rawValue }),
        ConfigSetting("log-format", .connection, problem: choice(StderrLogHandler.Format.allCases), builtIn: { $0.connection.logFormat.rawValue }),
        ConfigSetting("tls-ca-file", .connection),
        ConfigSetting("tls-ca-dir", .connection),
        ConfigSetting("tls-cert-file", .connection),
        ConfigSetting("tls-key-file", .connection),
        ConfigSetting("tls-key-passphrase-file", .connection),
        ConfigSetting("tls-server-name", .connection),
        ConfigSetting("tls-insecure-skip-verify", .connection, .flag, builtIn: { String($0.connection.tls.insecureSkipVerify) }),
        ConfigSetting("ttl", .run, problem: checked(DurationText.parse), builtIn: { $0.ttl.description }),
        ConfigSetting("wait", .run, problem: checked(WaitText.init(parsing:))),
        ConfigSetting("min-hold", .run, problem: checked(DurationText.parse), builtIn: { $0.minHold.description }),
        ConfigSetting("timeout", .run, problem: checked(DurationText.parse)),
        ConfigSetting("kill-after", .run, problem: checked(DurationText.parse), builtIn: { $0.killAfter.description }),
        ConfigSetting("conflict-exit-code", .run, .integer, builtIn: { String($0.conflictExitCode) }),
        ConfigSetting("group", .run, problem: { JobKeys.problem(withGroup: $0) }, builtIn: { _ in JobKeys.defaultGroup }),
        ConfigSetting("no-job-control", .run, .flag, builtIn: { String($0.job.noJobControl) }),
        ConfigSetting("history-size", .run, .integer, builtIn: { String($0.job.historySize) }),
        ConfigSetting("record-output", .run, .size, problem: checked(ByteCount.init(parsing:))),
        ConfigSetting("fail-pattern", .run, problem: FailPattern.problem(with:)),
        ConfigSetting("notify", .run),
        ConfigSetting("notify-on", .run, problem: choice(NotifyPlan.When.allCases), builtIn: { ($0.job.notifyOn ?? .failure).rawValue }),
        ConfigSetting("notify-timeout", .run, problem: checked(DurationText.parse), builtIn: { $0.job.notifyTimeout.description }),
        ConfigSetting("retry", .run, .integer, builtIn: { String($0.job.retry) }),
        ConfigSetting("retry-delay", .run, problem: checked(DurationText.parse), builtIn: { $0.job.retryDelay.description }),
        ConfigSetting("expect-every", .run, problem: checked(DurationText.parse)),
        ConfigSetting("metrics-textfile", .run, problem: { MetricsTextfile.problem(with: $0) }),
    ]

    /// A check that runs `parse` and reports its `ValidationError`.
    private static func checked<Value>(_ parse: @escaping @Sendable (String) throws -> Value) -> @Sendable (String) -> String? {
        { text in
            do {
                _ = try parse(text)
                return nil
            } catch {
                return (error as? ValidationError)?.message ?? "\(error)"
            }
        }
    }

    /// A check that the value is one of `cases`.
    private static func choice<Value: RawRepresentable<String>>(_ cases: [Value]) -> @Sendable (String) -> String? {
        let names = cases.map(\.rawValue)
        return { text in names.contains(text) ? nil : "\"\(text)\" is not one of \(names.joined(separator: ", "))" }
    }

    private static func serverProblem(_ text: String) -> String? {
        do throws(RedLockError) {
            _ = try RedisServerAddress(parsing: text)
            return nil
        } catch {
            return error.message
        }
    }
}
