import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// Follows Redis pub/sub messages matching a pattern on every server, one blocking connection and
/// thread per server, reconnecting after failures. For `cronlock watch` and the tests; not API.
package final class RedisSubscriber: Sendable {
    /// What a server's subscription reports.
    package enum Event: Sendable {
        /// Subscribed (again) to the pattern on the server at `server` (its index in the list).
        case subscribed(server: Int)
        /// A message published on `channel`.
        case message(server: Int, channel: String, payload: String)
        /// The subscription failed; it is retried after `retryDelay`.
        case failed(server: Int, reason: String)
    }

    /// How to reach one server: open a blocking hiredis connection (with a connect timeout), and
    /// the `AUTH` command to send first, if any.
    package struct Target: Sendable {
        package var connect: @Sendable (timeval) -> UnsafeMutablePointer<redisContext>?
        package var authentication: [String]?

        package init(authentication: [String]?, connect: @escaping @Sendable (timeval) -> UnsafeMutablePointer<redisContext>?) {
            self.authentication = authentication
            self.connect = connect
        }
    }

    /// The pause before reconnecting a failed subscription.
    package static let retryDelay = Duration.seconds(1)

    private struct State {
        var stopped = false
        var sockets: [Int: Int32] = [:]
    }

    private let state = PthreadLock(State())

    /// Starts following `pattern` (a `PSUBSCRIBE` glob) on every server of `targets`. `onEvent`
    /// is called on the subscription threads, one per server.
    package init(targets: [Target], pattern: String, onEvent: @escaping @Sendable (Event) -> Void) {
        for (index, target) in targets.enumerated() {
            _ = DetachedThread.start { [self] in
                follow(target, index: index, pattern: pattern, onEvent: onEvent)
            }
        }
    }

    /// Ends every subscription: their threads return after closing their connections.
    package func stop() {
        let sockets = state.withLock { state in
            state.stopped = true
            return Array(state.sockets.values)
        }
        for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func follow(_ target: Target, index: Int, pattern: String, onEvent: @Sendable (Event) -> Void) {
        while !isStopped {
            switch subscribeAndRead(target, index: index, pattern: pattern, onEvent: onEvent) {
            case .stopped: return
            case .failed(let reason): if !isStopped { onEvent(.failed(server: index, reason: reason)) }
            }
            var pause = timespec(tv_sec: Int(Self.retryDelay.components.seconds), tv_nsec: 0)
            nanosleep(&pause, nil)
        }
    }

    private enum Ending {
        case stopped
        case failed(String)
    }

    /// One connection's life: connect, authenticate, subscribe, then hand on messages until the
    /// connection fails or `stop()` shuts its socket down.
    private func subscribeAndRead(_ target: Target, index: Int, pattern: String, onEvent: @Sendable (Event) -> Void) -> Ending {
        guard let context = target.connect(timeval(tv_sec: 2, tv_usec: 0)) else { return .failed("cannot allocate a connection") }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { return .failed(String(cString: chiredis_errstr(context))) }
        let registered = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.sockets[index] = context.pointee.fd
            return true
        }
        guard registered else { return .stopped }
        defer { _ = state.withLock { $0.sockets.removeValue(forKey: index) } }
        // Connecting set a 2 s socket timeout; messages may be hours apart.
        _ = redisSetTimeout(context, timeval(tv_sec: 0, tv_usec: 0))
        if let authentication = target.authentication, case .error(let line) = Self.command(authentication, on: context) { return .failed(line) }
        switch Self.command(["PSUBSCRIBE", pattern], on: context) {
        case .error(let line): return .failed(line)
        case nil: return isStopped ? .stopped : .failed(String(cString: chiredis_errstr(context)))
        default: onEvent(.subscribed(server: index))
        }
        while true {
            guard let reply = Self.nextReply(on: context) else {
                return isStopped ? .stopped : .failed(String(cString: chiredis_errstr(context)))
            }
            guard case .array(let parts) = reply, parts.count == 4, parts[0] == .bulk("pmessage"),
                  case .bulk(let channel) = parts[2], case .bulk(let payload) = parts[3] else { continue }
            onEvent(.message(server: index, channel: channel, payload: payload))
        }
    }

    /// Sends one command and reads its reply; nil when the connection failed.
    private static func command(_ arguments: [String], on context: UnsafeMutablePointer<redisContext>) -> RedisReply? {
        let bytes = RedisCommand.encode(arguments)
        let appended = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard appended == REDIS_OK else { return nil }
        return nextReply(on: context)
    }

    private static func nextReply(on context: UnsafeMutablePointer<redisContext>) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
    }
}
