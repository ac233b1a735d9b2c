import Foundation
import RedisTestSupport
import Testing

/// Runs cronlock against `cluster`: `--server` options go after a subcommand's name.
func cronlock(_ cluster: RedisCluster, _ arguments: [String], environment: [String: String] = [:]) async throws -> CronlockProcess.Result {
    try await CronlockProcess.run(withServers(serverArguments(cluster), arguments), environment: environment)
}

/// `arguments` with `servers` put where cronlock takes them: after a subcommand's name, if any.
func withServers(_ servers: [String], _ arguments: [String]) -> [String] {
    let subcommands: Set = ["pause", "resume", "stop", "history", "jobs", "watch", "status", "forget", "config", "doctor"]
    guard let first = arguments.first, subcommands.contains(first) else { return servers + arguments }
    return [first] + servers + arguments.dropFirst()
}

/// `text` parsed as a JSON array of objects; records an issue and throws when it is not one.
func jsonArray(_ text: String) throws -> [[String: Any]] {
    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(parsed as? [[String: Any]], "not a JSON array of objects: \(text)")
}
