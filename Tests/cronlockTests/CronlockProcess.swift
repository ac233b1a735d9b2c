import Foundation
import RedisTestSupport
import Testing

/// Integration suites run when `redis-server` is available, or when `REDLOCK_REQUIRE_REDIS=1`
/// demands them (then a missing server fails instead of skipping).
let needsRedis = Testing.ConditionTrait.enabled(
    if: RedisServerProcess.shouldRunIntegrationTests,
    "redis-server is not installed; set REDLOCK_REQUIRE_REDIS=1 to fail instead of skip")

extension Duration {
    /// The duration as a cronlock argument, in whole milliseconds (`1500ms`).
    var argument: String { "\(Int64((self / .milliseconds(1)).rounded()))ms" }
}

/// The built `cronlock` binary, run as an operator would: separate process, real arguments,
/// stdout/stderr captured, exit status checked.
final class CronlockProcess: @unchecked Sendable {
    /// The `cronlock` next to this test bundle in the build directory.
    static let executable: URL = {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return testBinary.deletingLastPathComponent().appendingPathComponent("cronlock")
    }()

    private let process: SpawnedProcess

    /// Starts cronlock with the test environment plus `environment`, less the variables in `unset`;
    /// with `launcher` (e.g. `["/usr/bin/timeout", "-s", "KILL", "2"]`), starts the launcher with
    /// cronlock's path and arguments after its own.
    init(_ arguments: [String], environment: [String: String] = [:], unset: [String] = [], launcher: [String] = []) throws {
        var variables = SpawnedProcess.isolatedEnvironment(environment)
        for name in unset { variables[name] = nil }
        let command = launcher + [Self.executable.path] + arguments
        process = try SpawnedProcess(command[0], Array(command.dropFirst()), environment: variables, output: .collect, error: .collect)
    }

    var pid: Int32 { process.pid }

    func signal(_ number: Int32) { process.signal(number) }

    /// Waits for exit and for the last of its output (off the cooperative pool) and returns the
    /// result; after `limit`, kills cronlock and throws.
    func finish(within limit: Duration = .seconds(60)) async throws -> Result {
        guard let code = await process.exitCode(within: limit) else {
            throw CronlockTestError("cronlock did not exit within \(limit): stdout \(process.standardOutput.debugDescription), stderr \(process.standardError.debugDescription)")
        }
        return Result(code: code, stdout: process.standardOutput, stderr: process.standardError)
    }

    /// Runs cronlock to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:], unset: [String] = [],
                    within limit: Duration = .seconds(60)) async throws -> Result {
        try await CronlockProcess(arguments, environment: environment, unset: unset).finish(within: limit)
    }

    struct Result: CustomStringConvertible {
        let code: Int32
        let stdout: String
        let stderr: String
        var description: String { "exit \(code), stdout \(stdout.debugDescription), stderr \(stderr.debugDescription)" }
    }
}

struct CronlockTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A scratch directory for one test, removed when the value goes away.
final class Scratch: @unchecked Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cronlock-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }
    func read(_ name: String) -> String { (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "" }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    /// Writes `contents` to `name` with `permissions` and returns its path.
    func write(_ name: String, _ contents: String, permissions: Int) throws -> String {
        try contents.write(toFile: file(name), atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: file(name))
        return file(name)
    }

    /// Waits (up to 10 s) until `name` exists; scripts create it with `mv` so it is complete.
    func waitFor(_ name: String) async throws {
        guard await eventually(within: .seconds(10), { exists(name) }) else {
            throw CronlockTestError("\(file(name)) did not appear within 10 s")
        }
    }
}

/// `--server URL` for every server of the cluster.
func serverArguments(_ cluster: RedisCluster) -> [String] {
    cluster.urls.flatMap { ["--server", $0] }
}

/// Waits (up to 10 s) until cronlock's key for `key` is set on every server of `cluster`: a cronlock
/// started in the background holds its lock. (Start-up of a debug build next to dozens of other
/// processes can take a second, so a fixed sleep is not enough.)
func waitUntilHeld(_ key: String, on cluster: RedisCluster) async throws {
    let held = await eventually(within: .seconds(10)) { (try? await cluster.holders(of: "cronlock:\(key)")) == cluster.servers.count }
    guard held else { throw CronlockTestError("cronlock:\(key) was not held on all \(cluster.servers.count) servers within 10 s") }
}

/// A unique lock name per test.
func uniqueKey(_ function: String = #function) -> String {
    "\(function.prefix(while: { $0 != "(" }))-\(UUID().uuidString.prefix(6))"
}

/// True while `pid` exists and is not a zombie (a zombie may linger when PID 1 does not reap).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let closing = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(closing, offsetBy: 2)]
    return state != "Z" && state != "X"
}
