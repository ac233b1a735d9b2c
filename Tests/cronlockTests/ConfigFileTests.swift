import Foundation
import RedisTestSupport
import Testing
import TestLoad

/// `cronlock config --key K` rows: setting name → (value, source).
private func configRows(_ output: String) -> [String: (value: String, source: String)] {
    var rows: [String: (value: String, source: String)] = [:]
    for line in output.split(separator: "\n") {
        let columns = line.split(separator: /\s{2,}/).map(String.init)
        guard columns.count >= 2 else { continue }
        rows[columns[0]] = (columns[1], columns.count > 2 ? columns[2] : "")
    }
    return rows
}

@Suite("configuration file: precedence and errors")
struct ConfigFileTests {
    /// A file that sets `ttl` and `retry` at the top level and in `[job.nightly]`, servers and TLS.
    private static let file = """
        servers = ["redis://127.0.0.1:7001", "redis://:hunter2@127.0.0.1:7002"]
        ttl = "1m"
        retry = 1
        log-format = "json"
        tls-ca-file = "/etc/cronlock/ca.pem"
        tls-ca-dir = "/etc/ssl/certs"
        tls-key-passphrase-file = "/etc/cronlock/key-passphrase"
        tls-insecure-skip-verify = true

        [job.nightly]
        ttl = "5m"
        retry = 3
        """

    struct Row: Sendable, CustomStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var setting: String
        var value: String
        /// What the source column starts with (a file's source is `<path>:<line>`).
        var source: String
        var description: String { "\(arguments) \(environment) → \(setting) = \(value) from \(source)" }
    }

    static let precedence: [Row] = [
        // command line > environment > job section > file top level > built-in
        Row(arguments: ["--key", "nightly", "--server", "redis://127.0.0.1:7009"], environment: ["CRONLOCK_SERVERS": "redis://127.0.0.1:7008"],
            setting: "servers", value: "redis://127.0.0.1:7009", source: "command line"),
        Row(arguments: ["--key", "nightly"], environment: ["CRONLOCK_SERVERS": "redis://127.0.0.1:7008"],
            setting: "servers", value: "redis://127.0.0.1:7008", source: "environment CRONLOCK_SERVERS"),
        Row(arguments: ["--key", "nightly"], setting: "servers", value: "redis://127.0.0.1:7001, redis://:***@127.0.0.1:7002", source: "FILE:1"),
        Row(arguments: ["--key", "nightly"], setting: "ttl", value: "5m", source: "FILE:11 [job.nightly]"),
        Row(arguments: ["--key", "nightly"], setting: "retry", value: "3", source: "FILE:12 [job.nightly]"),
        Row(arguments: ["--key", "other"], setting: "ttl", value: "1m", source: "FILE:2"),
        Row(arguments: ["--key", "other"], setting: "log-format", value: "json", source: "FILE:4"),
        Row(arguments: ["--key", "nightly"], setting: "min-hold", value: "20s", source: "built-in default"),
        Row(arguments: ["--key", "nightly", "--prefix", "team:"], setting: "prefix", value: "team:", source: "command line"),
        Row(arguments: ["--key", "nightly"], environment: ["CRONLOCK_PASSWORD": "hunter2"], setting: "password-file",
            value: "(set; not shown)", source: "environment CRONLOCK_PASSWORD"),
        // Every TLS setting, through the same layers.
        Row(arguments: ["--key", "nightly", "--tls-ca-file", "/cli/ca.pem"], environment: ["CRONLOCK_TLS_CA_FILE": "/env/ca.pem"],
            setting: "tls-ca-file", value: "/cli/ca.pem", source: "command line"),
        Row(arguments: ["--key", "nightly"], environment: ["CRONLOCK_TLS_CA_FILE": "/env/ca.pem"],
            setting: "tls-ca-file", value: "/env/ca.pem", source: "environment CRONLOCK_TLS_CA_FILE"),
        Row(arguments: ["--key", "nightly"], setting: "tls-ca-file", value: "/etc/cronlock/ca.pem", source: "FILE:5"),
        Row(arguments: ["--key", "nightly"], setting: "tls-ca-dir", value: "/etc/ssl/certs", source: "FILE:6"),
        Row(arguments: ["--key", "nightly", "--tls-ca-dir", "/cli/certs"], setting: "tls-ca-dir", value: "/cli/certs", source: "command line"),
        Row(arguments: ["--key", "nightly"], setting: "tls-key-passphrase-file", value: "/etc/cronlock/key-passphrase", source: "FILE:7"),
        Row(arguments: ["--key", "nightly"], setting: "tls-insecure-skip-verify", value: "true", source: "FILE:8"),
        Row(arguments: ["--tls-insecure-skip-verify", "--key", "nightly"], setting: "tls-insecure-skip-verify", value: "true", source: "command line"),
        Row(arguments: ["--key", "nightly"], environment: ["CRONLOCK_TLS_CERT_FILE": "/env/client.pem"],
            setting: "tls-cert-file", value: "/env/client.pem", source: "environment CRONLOCK_TLS_CERT_FILE"),
        Row(arguments: ["--key", "nightly", "--tls-key-file", "/cli/client.key"], environment: ["CRONLOCK_TLS_KEY_FILE": "/env/client.key"],
            setting: "tls-key-file", value: "/cli/client.key", source: "command line"),
        Row(arguments: ["--key", "nightly"], setting: "tls-server-name", value: "-", source: "built-in default"),
    ]

    @Test(arguments: precedence)
    func eachValueComesFromTheHighestLayerThatSetsIt(_ row: Row) async throws {
        let scratch = try Scratch()
        let path = try scratch.write("cronlock.toml", Self.file, permissions: 0o644)
        let result = try await CronlockProcess.run(["config", "--config", path] + row.arguments,
                                                   environment: ["CRONLOCK_SERVERS": ""].merging(row.environment) { $1 })
        #expect(result.code == 0, "\(result)")
        let shown = try #require(configRows(result.stdout)[row.setting], "\(result)")
        let source = row.source.hasPrefix("FILE") ? path + row.source.dropFirst(4) : row.source
        #expect(shown.value == row.value && shown.source == source, "\(row): \(result.stdout)")
        #expect(!result.stdout.contains("hunter2"), "passwords are never shown")
    }

    @Test func theFileIsFoundThroughCronlockConfigAndAnEmptyOneMeansNone() async throws {
        let scratch = try Scratch()
        let path = try scratch.write("c.toml", "ttl = \"2m\"\n", permissions: 0o644)
        let named = try await CronlockProcess.run(["config", "--key", "k"], environment: ["CRONLOCK_CONFIG": path])
        #expect(configRows(named.stdout)["ttl"]?.value == "2m", "\(named)")
        let none = try await CronlockProcess.run(["config", "--key", "k"], environment: ["CRONLOCK_CONFIG": ""])
        #expect(configRows(none.stdout)["configuration file"]?.value == "none" && configRows(none.stdout)["ttl"]?.value == "30s", "\(none)")
    }

    struct BadFile: Sendable, CustomStringConvertible {
        var contents: String
        /// What the error line says after `cronlock: <path>`.
        var says: String
        var description: String { says }
    }

    static let badFiles: [BadFile] = [
        BadFile(contents: "ttl = \n", says: ":1: not valid TOML"),
        BadFile(contents: "[job.a\nttl = \"1s\"\n", says: ":1: not valid TOML"),
        BadFile(contents: "# comment\ntll = \"5s\"\n", says: ":2: tll: unknown key"),
        BadFile(contents: "[job.a]\nttl = \"5s\"\ntimout = \"1m\"\n", says: ":3: job.a.timout: unknown key"),
        BadFile(contents: "[jobs.a]\nttl = \"5s\"\n", says: ":1: jobs: unknown key"),
        BadFile(contents: "retry = \"2\"\n", says: ":1: retry: must be an integer, not string"),
        BadFile(contents: "\n\n[job.a]\nttl = 30\n", says: ":4: job.a.ttl: must be a string, not integer"),
        BadFile(contents: "servers = \"redis://h:1\"\n", says: ":1: servers: must be a non-empty array of strings"),
        BadFile(contents: "ttl = \"5x\"\n", says: ":1: ttl: \"5x\" is not a duration"),
        BadFile(contents: "notify-on = \"sometimes\"\n", says: ":1: notify-on: \"sometimes\" is not one of failure, degraded, always, change"),
        BadFile(contents: "[job.a]\nservers = [\"redis://h:1\"]\n", says: ":2: job.a.servers: belongs at the top level"),
        BadFile(contents: "job = 3\n", says: ":1: job: must be a table"),
        BadFile(contents: "no-job-control = \"yes\"\n", says: ":1: no-job-control: must be true or false"),
        BadFile(contents: "tls-insecure-skip-verify = \"yes\"\n", says: ":1: tls-insecure-skip-verify: must be true or false"),
        BadFile(contents: "[job.a]\ntls-ca-dir = \"/etc/ssl/certs\"\n", says: ":2: job.a.tls-ca-dir: belongs at the top level"),
        BadFile(contents: "tls-key-passphrase = \"secret\"\n", says: ":1: tls-key-passphrase: unknown key"),
        BadFile(contents: "tls-server-name = 1\n", says: ":1: tls-server-name: must be a string, not integer"),
    ]

    @Test(arguments: badFiles)
    func aBadFileExits64NamingTheFileLineAndKey(_ bad: BadFile) async throws {
        let scratch = try Scratch()
        let path = try scratch.write("bad.toml", bad.contents, permissions: 0o644)
        for arguments in [["--config", path, "--key", "a", "--", "true"], ["status", "--config", path, "--key", "a"], ["config", "--config", path, "--key", "a"]] {
            let result = try await CronlockProcess.run(arguments)
            #expect(result.code == 64 && result.stderr.hasPrefix("cronlock: \(path)\(bad.says)") && result.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(result)")
        }
    }

    @Test func notifyOnWithoutNotifyExits64NamingTheFileLineAndKey() async throws {
        let scratch = try Scratch()
        let top = try scratch.write("top.toml", "ttl = \"1m\"\nnotify-on = \"change\"\n", permissions: 0o644)
        let section = try scratch.write("section.toml", "[job.a]\nnotify-on = \"always\"\n", permissions: 0o644)
        for (path, says) in [(top, ":2: notify-on: needs notify"), (section, ":2: job.a.notify-on: needs notify")] {
            for arguments in [["--config", path, "--key", "a", "--", "true"], ["config", "--config", path, "--key", "a"]] {
                let result = try await CronlockProcess.run(arguments, environment: ["CRONLOCK_SERVERS": "redis://127.0.0.1:1"])
                #expect(result.code == 64 && result.stderr.hasPrefix("cronlock: \(path)\(says)") && result.stderr.split(separator: "\n").count == 1,
                        "\(arguments): \(result)")
            }
        }
        let given = try scratch.write("given.toml", "notify-on = \"change\"\n[job.a]\nnotify = \"/bin/true\"\n", permissions: 0o644)
        let shown = try await CronlockProcess.run(["config", "--config", given, "--key", "a"])
        #expect(shown.code == 0 && configRows(shown.stdout)["notify-on"]?.value == "change", "notify in the job's section: \(shown)")
        let onTheCommandLine = try await CronlockProcess.run(["--config", top, "--key", "a", "--notify", "/bin/true", "--", "true"],
                                                             environment: ["CRONLOCK_SERVERS": "redis://127.0.0.1:1"])
        #expect(onTheCommandLine.code == 69 && !onTheCommandLine.stderr.contains("notify"), "--notify on the command line: \(onTheCommandLine)")
    }

    @Test func aNamedFileThatCannotBeReadIsAnError() async throws {
        let result = try await CronlockProcess.run(["--config", "/nonexistent/cronlock.toml", "--key", "a", "--", "true"])
        #expect(result.code == 64 && result.stderr == "cronlock: /nonexistent/cronlock.toml: cannot read the configuration file: No such file or directory\n",
                "\(result)")
    }
}

@Suite("configuration file: runs", needsRedis, .load(.timed))
struct ConfigFileRunTests {
    @Test func aCrontabLineShrinksToKeyAndCommandWithEverythingElseFromTheFile() async throws {
        let cluster = try await RedisCluster.start(count: 3)
        let key = uniqueKey()
        let scratch = try Scratch()
        let servers = cluster.urls.map { "\"\($0)\"" }.joined(separator: ", ")
        let path = try scratch.write("cronlock.toml", """
            servers = [\(servers)]
            min-hold = "0s"
            retry-delay = "50ms"

            [job.\(key)]
            retry = 2
            group = "nightly"
            """, permissions: 0o644)
        let script = "n=$(cat \(scratch.file("count")) 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(scratch.file("count")); [ $n -ge 2 ]"
        let environment = ["CRONLOCK_CONFIG": path, "CRONLOCK_SERVERS": ""]
        let result = try await CronlockProcess.run(["--key", key, "--", "sh", "-c", script], environment: environment)
        #expect(result.code == 0 && scratch.read("count") == "2\n", "retried as its section says: \(result)")
        let jobs = try jsonArray(try await CronlockProcess.run(["jobs", "--json"], environment: environment).stdout)
        #expect(jobs.first { $0["job"] as? String == key }?["group"] as? String == "nightly", "\(jobs)")
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 0, "--min-hold 0s from the file")

        // The environment beats the file: servers that refuse.
        let refused = try await CronlockProcess.run(["--key", key, "--", "true"],
                                                    environment: ["CRONLOCK_CONFIG": path, "CRONLOCK_SERVERS": "redis://127.0.0.1:1"])
        #expect(refused.code == 69, "\(refused)")
        // The command line beats both.
        let direct = try await CronlockProcess.run(["--key", key, "--retry", "0", "--", "sh", "-c", "exit 5"], environment: environment)
        #expect(direct.code == 5 && scratch.read("count") == "2\n", "\(direct)")
    }
}
