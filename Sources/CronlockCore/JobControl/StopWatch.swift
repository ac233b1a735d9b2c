import RedLock
import RedisIO

/// A `cronlock stop` aimed at one run: who asked, and why.
struct StopRequest: Sendable, Equatable {
    var by: String
    var reason: String
}

/// Watches the masters, while a run's command runs, for a `cronlock stop` aimed at that run.
enum StopWatch {
    /// How often the masters are asked: a stop takes effect within about this long plus a round trip.
    static let interval = Duration.milliseconds(250)

    /// Returns the first stop request for `runID` that any master holds (`cronlock stop` writes it
    /// to a majority, so any majority that answers includes one that has it), or nil when
    /// cancelled (the command ended by itself).
    static func firstRequest(for runID: String, keys: JobKeys, client: RedLockClient) async -> StopRequest? {
        while true {
            do { try await Task.sleep(for: interval) } catch { return nil }
            guard let replies = try? await client.sendToEveryServer(["HMGET", keys.stop, "run", "by", "reason"], key: keys.stop) else {
                continue
            }
            for reply in replies {
                guard case .success(.array(let fields)) = reply.result, fields.count == 3,
                      fields[0] == .bulk(runID) else { continue }
                return StopRequest(by: fields[1].text ?? "unknown", reason: fields[2].text ?? "")
            }
        }
    }
}

extension RedisReply {
    /// The text of a bulk or status reply; nil for anything else.
    package var text: String? {
        switch self {
        case .bulk(let text), .status(let text): text
        default: nil
        }
    }
}
