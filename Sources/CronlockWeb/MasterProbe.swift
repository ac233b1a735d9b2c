import CronlockCore
import RedLock

/// Asks one master for its health with one `INFO` and times the round trip.
enum MasterProbe {
    static func probe(_ client: RedLockClient) async -> MasterView {
        let server = client.configuration.servers[0]
        var view = MasterView(server: "\(server)", up: false)
        let start = ContinuousClock.now
        let replies: [ServerReply]
        do {
            replies = try await client.sendToEveryServer(["INFO"], key: "cronlock-web")
        } catch {
            view.error = error.message
            return view
        }
        let elapsed = ContinuousClock.now - start
        switch replies.first?.result {
        case .success(let reply)?:
            let info = parse(reply.text ?? "")
            view.up = true
            view.latencyMs = (elapsed / .microseconds(1)).rounded() / 1000
            view.version = info["redis_version"]
            view.uptimeSeconds = info["uptime_in_seconds"].flatMap { Int($0) }
            view.aof = info["aof_enabled"].map { $0 == "1" }
            let now = Int(WallClock.epochMilliseconds() / 1000)
            view.lastSaveAgoSeconds = info["rdb_last_save_time"].flatMap { Int($0) }.map { max(0, now - $0) }
            view.lastSaveOk = info["rdb_last_bgsave_status"].map { $0 == "ok" }
            view.maxmemoryPolicy = info["maxmemory_policy"]
        case .failure(let outcome)?:
            view.error = "\(outcome)"
        case nil:
            view.error = "no answer"
        }
        return view
    }

    /// `INFO`'s `name:value` lines.
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }
}
