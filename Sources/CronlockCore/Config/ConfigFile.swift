import TOMLKit

/// A parsed configuration file (TOML): connection settings and run-option defaults at the top
/// level, and per-job run options in `[job.NAME]` sections keyed by `--key`. Every key and
/// value is checked when the file is read; see `ConfigSetting` for the keys.
struct ConfigFile: Sendable {
    /// One setting's value as option arguments (several for `servers`), and where it was written.
    struct Entry: Sendable {
        var values: [String]
        var line: Int?
    }

    let path: String
    /// Top-level settings by name.
    let defaults: [String: Entry]
    /// Each job's section, by job name.
    let jobs: [String: [String: Entry]]

    /// Reads and checks the file at `path` (at most 1 MiB).
    static func load(_ path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        switch FileText.contents(of: path) {
        case .success(let contents): text = contents
        case .failure(let error): throw ConfigError(path: path, line: nil, key: nil, problem: "cannot read the configuration file: \(error.reason)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(path: path, line: error.source.begin.line, key: nil, problem: "not valid TOML: \(error.description)")
        } catch {
            throw ConfigError(path: path, line: nil, key: nil, problem: "not valid TOML: \(error)")
        }
        let lines = TOMLLines(text)
        var defaults: [String: Entry] = [:]
        var jobs: [String: [String: Entry]] = [:]
        for (key, value) in table {
            if key == "job" {
                guard let sections = value.table else {
                    throw ConfigError(path: path, line: lines.line(of: key, in: []), key: key, problem: "must be a table of [job.NAME] sections")
                }
                for (name, section) in sections {
                    guard let section = section.table else {
                        throw ConfigError(path: path, line: lines.line(of: name, in: ["job"]), key: "job.\(name)",
                                          problem: "must be a [job.\(name)] section of run options")
                    }
                    jobs[name] = try entries(of: Array(section), at: ["job", name], scopes: [.run], path: path, lines: lines)
                }
            } else {
                defaults.merge(try entries(of: [(key, value)], at: [], scopes: [.connection, .run], path: path, lines: lines)) { $1 }
            }
        }
        return ConfigFile(path: path, defaults: defaults, jobs: jobs)
    }

    /// The checked settings of `table`'s `pairs` (at `tablePath`), allowing settings of `scopes` only.
    private static func entries(of table: [(String, TOMLValueConvertible)], at tablePath: [String], scopes: [ConfigSetting.Scope], path: String,
                                lines: TOMLLines) throws(ConfigError) -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for (key, value) in table {
            let line = lines.line(of: key, in: tablePath)
            let shownKey = (tablePath + [key]).joined(separator: ".")
            func failure(_ problem: String) -> ConfigError { ConfigError(path: path, line: line, key: shownKey, problem: problem) }
            guard let setting = ConfigSetting.named(key) else {
                let known = ConfigSetting.all.filter { scopes.contains($0.scope) }.map(\.name).joined(separator: ", ")
                throw failure("unknown key; known keys here: \(known)" + (tablePath.isEmpty ? ", [job.NAME]" : ""))
            }
            guard scopes.contains(setting.scope) else { throw failure("belongs at the top level, not in a [job] section") }
            guard let values = Self.values(of: value, as: setting.kind) else { throw failure("must be \(Self.typeName(setting.kind)), not \(value.type)") }
            for text in values {
                if let problem = setting.problem(text) { throw failure(problem) }
            }
            entries[key] = Entry(values: values, line: line)
        }
        return entries
    }

    /// `value` as option arguments when it has the TOML type `kind` needs, else nil.
    private static func values(of value: TOMLValueConvertible, as kind: ConfigSetting.Kind) -> [String]? {
        switch kind {
        case .text: value.string.map { [$0] }
        case .integer: value.int.map { [String($0)] }
        case .size: value.int.map { [String($0)] } ?? value.string.map { [$0] }
        case .flag: value.bool.map { [String($0)] }
        case .textList:
            value.array.flatMap { array in
                let texts = array.compactMap(\.string)
                return texts.count == array.count && !texts.isEmpty ? texts : nil
            }
        }
    }

    private static func typeName(_ kind: ConfigSetting.Kind) -> String {
        switch kind {
        case .text: "a string"
        case .integer: "an integer"
        case .size: "an integer (bytes) or a string such as \"4k\""
        case .flag: "true or false"
        case .textList: "a non-empty array of strings"
        }
    }
}
