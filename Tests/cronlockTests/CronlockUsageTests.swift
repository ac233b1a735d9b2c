import CronlockCore
import Foundation
import Testing
import TestLoad

/// Bad command lines: each gets one clear line on stderr naming the problem, and exit 64, before
/// any server is contacted (so these need no Redis).
@Suite("cronlock usage errors", .load(.timed))
struct CronlockUsageTests {
    struct BadInput: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let says: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [BadInput] = [
        BadInput(arguments: ["--", "true"], says: "--key"),
        BadInput(arguments: ["--key", "", "--", "true"], says: "--key"),
        BadInput(arguments: ["--key", "job"], says: "command"),
        BadInput(arguments: ["--key", "job", "--"], says: "command"),
        BadInput(arguments: ["--key", "job", "--bogus", "--", "true"], says: "bogus"),
        BadInput(arguments: ["--key", "job", "--ttl", "0s", "--", "true"], says: "ttl"),
        BadInput(arguments: ["--key", "job", "--ttl", "5x", "--", "true"], says: "5x"),
        BadInput(arguments: ["--key", "job", "--ttl", "-1s", "--", "true"], says: "--ttl"),
        BadInput(arguments: ["--key", "job", "--ttl", "30", "--", "true"], says: "30"),
        BadInput(arguments: ["--key", "job", "--ttl", "99999999h", "--", "true"], says: "99999999h"),
        BadInput(arguments: ["--key", "job", "--ttl", "1ms", "--", "true"], says: "TTL"),
        BadInput(arguments: ["--key", "job", "--wait", "sometimes", "--", "true"], says: "sometimes"),
        BadInput(arguments: ["--key", "job", "--timeout", "0s", "--", "true"], says: "timeout"),
        BadInput(arguments: ["--key", "job", "-E", "300", "--", "true"], says: "conflict-exit-code"),
        BadInput(arguments: ["--key", "job", "--server", "redis://host:99999", "--", "true"], says: "port"),
        BadInput(arguments: ["--key", "job", "--server", "::1", "--", "true"], says: "IPv6"),
        BadInput(arguments: ["--key", "job", "--server", "rediss://host", "--tls-ca-file", "/nonexistent/ca.pem", "--", "true"], says: "/nonexistent/ca.pem"),
        BadInput(arguments: ["--key", "job", "--server", "rediss://host", "--tls-key-passphrase-file", "/nonexistent/pp", "--", "true"], says: "/nonexistent/pp"),
        BadInput(arguments: ["--key", "job", "--server", "redis://:secret-pw@host:0", "--", "true"], says: "port"),
        BadInput(arguments: ["--key", "job", "--server", "h1:7000", "--server", "h1:7000", "--", "true"], says: "twice"),
        BadInput(arguments: ["--key", "job", "--password-file", "/nonexistent/pw", "--", "true"], says: "/nonexistent/pw"),
        BadInput(arguments: ["--key", "job", "--log-level", "loud", "--", "true"], says: "loud"),
        BadInput(arguments: ["--key", "job", "--log-format", "xml", "--", "true"], says: "xml"),
        BadInput(arguments: ["--key", String(repeating: "k", count: 5000), "--", "true"], says: "4096"),
        BadInput(arguments: ["--key", "job", "--", ""], says: "missing the command"),
        BadInput(arguments: ["--key", "job", "--prefix", " cron:", "--", "true"], says: "--prefix"),
        BadInput(arguments: ["--server", "redis://127.0.0.1:1", "jobs", "--prefix", "a\nb"], says: "--prefix"),
        BadInput(arguments: ["--server", "redis://127.0.0.1:1", "watch", "--prefix", "a\u{1B}[2J"], says: "--prefix"),
        BadInput(arguments: ["status"], says: "--key"),
        BadInput(arguments: ["demo", "--servers", "4"], says: "--servers"),
        // Plainer words than the parser's for common slips (issue 18).
        BadInput(arguments: ["--key", "job", "echo", "hi"], says: "put -- before the command to run: cronlock [options] -- echo ARGS..."),
        BadInput(arguments: ["--key", "job", "ls", "-l"], says: "put -- before the command to run: cronlock [options] -- ls ARGS..."),
        BadInput(arguments: ["--server", "redis://127.0.0.1:1", "backup.sh"], says: "cronlock [options] --key NAME -- backup.sh"),
        BadInput(arguments: ["statsu"], says: "unknown command 'statsu': did you mean 'status'?"),
        BadInput(arguments: ["stpo", "--key", "job"], says: "did you mean 'stop'?"),
        BadInput(arguments: ["jbos"], says: "did you mean 'jobs'?"),
        BadInput(arguments: ["jobs", "--key", "job"], says: "jobs takes no --key"),
        BadInput(arguments: ["watch", "--key", "job"], says: "watch takes no --key"),
    ]

    @Test("bad input exits 64 with one clear line", arguments: badInputs)
    func badInputExitsSixtyFourWithOneClearLine(_ input: BadInput) async throws {
        let result = try await CronlockProcess.run(input.arguments, within: .seconds(20))
        #expect(result.code == 64, "\(result)")
        #expect(result.stderr.contains(input.says), "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.contains("secret-pw"))
        #expect(result.stderr.split(separator: "\n").count <= 2, "short: \(result)")
    }

    /// Commands that talk to servers, as an operator would type them. Only ones that write nothing
    /// even if the fallback came back, since it was a Redis the tests did not start: the run's
    /// command does not exist (checked before the lock is taken); `pause`, `resume` and `stop`
    /// reach the servers through the same `AdminSession.with` as `history` and `jobs`.
    static let serverCommands: [[String]] = [
        ["--key", "job", "--", "/nonexistent/cronlock-test-command"], ["status", "--key", "job"], ["history", "--key", "job"],
        ["jobs"], ["watch", "--count", "1"],
    ]

    /// A crontab that lost its CRONLOCK_SERVERS line must not fall back to a local Redis (each host
    /// would hold its own "majority" and run the job): exit 64, saying where servers come from.
    @Test("no server given is a usage error", arguments: serverCommands)
    func noServerGivenIsAUsageError(_ arguments: [String]) async throws {
        for environment in [[:], ["CRONLOCK_SERVERS": ""], ["CRONLOCK_SERVERS": "  "]] {
            let result = try await CronlockProcess.run(arguments, environment: environment, unset: environment.isEmpty ? ["CRONLOCK_SERVERS"] : [],
                                                       within: .seconds(20))
            #expect(result.code == 64, "\(environment): \(result)")
            #expect(result.stderr.hasPrefix("cronlock: no Redis servers"), "\(environment): \(result)")
            #expect(result.stderr.contains("--server") && result.stderr.contains("CRONLOCK_SERVERS"), "\(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result)")
            #expect(result.stdout.isEmpty, "\(result)")
        }
    }

    @Test func versionPrintsTheOneVersionConstant() async throws {
        let result = try await CronlockProcess.run(["--version"])
        #expect(result.code == 0, "\(result)")
        #expect(result.stdout == CronlockVersion.current + "\n", "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    /// Each subcommand's help lists the options it reads, including those it shares with a run
    /// (`--group`, `stop --wait`), and none of a run's that it would ignore.
    @Test("subcommand help lists the options it takes", arguments: [
        ("pause", ["--key", "--group", "--all", "--for", "--reason"]), ("resume", ["--key", "--group", "--all"]),
        ("stop", ["--key", "--group", "--wait", "--reason"]), ("history", ["--key", "--group", "--limit", "--json"]),
        ("jobs", ["--group", "--json"]), ("watch", ["--group", "--count", "--json"]), ("status", ["--key", "--json"]),
    ])
    func subcommandHelpListsTheOptionsItTakes(_ subcommand: String, _ options: [String]) async throws {
        let result = try await CronlockProcess.run([subcommand, "--help"])
        #expect(result.code == 0, "\(result)")
        let listed = Set(result.stdout.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("--") else { return nil }
            return String(trimmed.prefix { $0 != " " })
        })
        for option in options + ["--server", "--prefix", "--password-file", "--log-level", "--log-format"] {
            #expect(listed.contains(option), "\(subcommand) --help lacks \(option): \(listed.sorted())")
        }
        for runOnly in ["--ttl", "--min-hold", "--timeout", "--history-size", "--record-output", "--notify", "--fail-pattern"] {
            #expect(!listed.contains(runOnly), "\(subcommand) --help lists \(runOnly), which it ignores")
        }
    }

    @Test func helpDocumentsOptionsAndExitCodes() async throws {
        let result = try await CronlockProcess.run(["--help"])
        #expect(result.code == 0)
        for needle in ["--key", "--server", "--password-file", "--ttl", "--wait", "--min-hold", "--timeout", "--conflict-exit-code",
                       "--log-level", "--log-format", "status", "demo", "75", "69", "64", "79", "124", "126", "127"] {
            #expect(result.stdout.contains(needle), "--help lacks \(needle)")
        }
    }
}
