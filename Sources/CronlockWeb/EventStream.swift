import CronlockCore
import Hummingbird
import RedLock
import ServiceLifecycle
import RedisIO

/// `GET /api/v1/events`: job-control events as Server-Sent Events (`event: finished`, `data:` the
/// event's JSON), subscribed on every master and passed on once each. A comment line every
/// `heartbeat` keeps proxies from closing the stream and notices gone clients. Ends after
/// `count` events when given, and when the server shuts down.
enum EventStream {
    static let heartbeat = Duration.seconds(15)

    static func response(dashboard: Dashboard, group: String?, count: Int?) -> Response {
        let settings = dashboard.settings
        let pattern = group.map { JobKeys.events(prefix: settings.prefix, group: $0) } ?? JobKeys.allEvents(prefix: settings.prefix)
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (lines, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1024))
            let events = PthreadLock(JobEventDeduplicator())
            let subscriber = try RedisSubscriber(servers: settings.redis.servers, fallbackPassword: settings.redis.password,
                                                 tls: settings.redis.tls, pattern: pattern) { event in
                guard case .message(_, _, let payload) = event else { return }
                let (fields, isNew) = events.withLock { $0.admit(payload) }
                if isNew { continuation.yield("event: \(fields?["event"] ?? "message")\ndata: \(payload)\n\n") }
            }
            let beat = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    continuation.yield(": heartbeat\n\n")
                }
            }
            defer {
                beat.cancel()
                subscriber.stop()
            }
            try await withGracefulShutdownHandler {
                try await writer.write(ByteBuffer(string: ": subscribed\n\n"))
                var sent = 0
                for await line in lines {
                    try await writer.write(ByteBuffer(string: line))
                    if line.hasPrefix("event:") { sent += 1 }
                    if let count, sent >= count { break }
                }
            } onGracefulShutdown: {
                continuation.finish()
            }
            try await writer.finish(nil)
        })
    }
}
