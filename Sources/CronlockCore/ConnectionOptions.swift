import ArgumentParser
import Logging
import RedLock

#if canImport(Glibc)
import Glibc
#endif

/// Where the lock lives and how to log: shared by running a command and `status`.
package struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(help: "The lock's name; the Redis key is <prefix><NAME>. (Not for jobs and watch, which cover every job.)")
    package var key: String?

    @Option(help: "Key prefix (may be empty, to share keys with other Redlock clients).")
    package var prefix: String = "cronlock:"

    @Option(name: .customLong("server"), help: ArgumentHelp(
        "A Redis master, repeatable: redis[s]://[user:password@]host[:port][/db], host:port, unix:///path.sock.",
        discussion: "Without --server: $CRONLOCK_SERVERS (comma-separated). One or the other is required: there is no default server."))
    package var servers: [String] = []

    @Option(help: ArgumentHelp("File holding the password for servers whose URL carries none.",
                               discussion: "Or set $CRONLOCK_PASSWORD. Never put a password on the command line."))
    package var passwordFile: String?

    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error, critical. (default: error; errors are one line each whatever the level)",
            transform: { try Self.choice($0, among: Logger.Level.allCases, for: "log level") })
    package var logLevel: Logger.Level = .error

    @Option(help: "Log format on stderr: text or json. (default: text)",
            transform: { try Self.choice($0, among: StderrLogHandler.Format.allCases, for: "log format") })
    package var logFormat: StderrLogHandler.Format = .text

    @Option(help: ArgumentHelp("Read settings from FILE (TOML) instead of $CRONLOCK_CONFIG or /etc/cronlock/cronlock.toml.",
                               discussion: "See `cronlock config --help`; the command line and the environment override the file.", valueName: "FILE"))
    package var config: String?
    @OptionGroup(title: "TLS (rediss:// servers)") package var tls: TLSOptions

    package init() {}

    /// The case of `allCases` named `text`, or a one-line error listing them.
    static func choice<Value: RawRepresentable<String>>(_ text: String, among allCases: [Value], for what: String) throws -> Value {
        guard let value = Value(rawValue: text) else {
            throw ValidationError("\"\(text)\" is not a \(what): use \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// Checks `--prefix`, which every command uses (the run, status and job control alike).
    package func validate() throws {
        try Self.checkName(prefix, option: "--prefix")
    }

    /// The Redis key for `--key`, after checking the name: given, printable (it names the job in
    /// `status`, `history` and `jobs`, one per line), no spaces around it (a quoting slip).
    func redisKey() throws -> String {
        guard let key, !key.isEmpty else { throw ValidationError("missing --key NAME (the lock's name)") }
        try Self.checkName(key, option: "--key")
        return prefix + key
    }

    /// A name must be printable and have no spaces around it.
    private static func checkName(_ name: String, option: String) throws {
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError("\(option) must not contain control characters (tabs, newlines, escapes)")
        }
        guard name.first?.isWhitespace != true, name.last?.isWhitespace != true else {
            throw ValidationError("\(option) must not start or end with a space: \"\(name)\"")
        }
    }

    /// The job's keys for `--key` in `group`, after checking both names.
    func jobKeys(group: String) throws -> JobKeys {
        _ = try redisKey()
        let name = key ?? ""
        guard !name.hasPrefix("_jc:") else { throw ValidationError("--key must not start with \"_jc:\", which job control reserves") }
        if let problem = JobKeys.problem(withGroup: group) { throw ValidationError("--group: \(problem)") }
        return JobKeys(prefix: prefix, group: group, name: name)
    }

    /// The lock client's configuration: servers, password, this process's holder identity.
    /// Throws a usage error when no server is given: a host must never fall back to a local Redis,
    /// where it would hold its own "majority" and run the job beside every other host.
    package func configuration(environment: [String: String], logger: Logger) throws -> RedLockConfiguration {
        var addresses = servers
        if addresses.isEmpty, let list = environment["CRONLOCK_SERVERS"], !list.allSatisfy(\.isWhitespace) {
            addresses = list.split(separator: ",").map { String($0.trimmingWhitespace) }.filter { !$0.isEmpty }
            guard !addresses.isEmpty else { throw ValidationError("CRONLOCK_SERVERS names no server: \"\(list)\"") }
        }
        guard !addresses.isEmpty else {
            throw ValidationError("no Redis servers: give --server URL (repeatable) or set CRONLOCK_SERVERS=URL,URL,... (there is no default server)")
        }
        var configuration: RedLockConfiguration
        do {
            configuration = try RedLockConfiguration(serverAddresses: addresses)
        } catch {
            throw ValidationError(error.message)
        }
        configuration.password = try passwordFile.map { try Self.readSecret(from: $0, option: "--password-file", holding: "the password", logger: logger) }
            ?? environment["CRONLOCK_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.tls = try tls.settings(environment: environment)
        configuration.holderIdentity = "host=\(Self.hostName()) pid=\(getpid()) started=\(WallClock.iso8601Now())"
        configuration.logger = logger
        return configuration
    }

    /// The first line of a secret's file (a password, a dashboard token; a trailing newline is not
    /// part of it), `option` naming where it was given and `holding` what it holds. Warns, as ssh
    /// does for keys, when group or others may read or write it. Throws a one-line
    /// `ValidationError` naming `option` and the file, never the secret.
    package static func readSecret(from path: String, option: String, holding: String, logger: Logger) throws -> String {
        let secret = try FileText.firstLine(ofSecretFile: path, option: option, holding: holding)
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            logger.warning("\(option) \(path) is open to group or others (mode 0\(mode)): chmod 600 \(path)")
        }
        return secret
    }

    /// This host's name, as `gethostname` reports it.
    package static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "unknown" }
        return name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}


extension Substring {
    var trimmingWhitespace: Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return self[first...last]
    }
}
