import RedisIO

#if canImport(Glibc)
import Glibc
#endif

/// Follows Redis pub/sub messages matching a pattern on every server, one connection and thread per
/// server (plain or TLS), reconnecting after failures. For tools built on the library (`cronlock
/// watch`); not public API.
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

    /// The pause before reconnecting a failed subscription.
    package static let retryDelay = Duration.seconds(1)

    private struct State {
        var stopped = false
        var sockets: [Int: Int32] = [:]
    }

    private let state = PthreadLock(State())

    /// Starts following `pattern` (a `PSUBSCRIBE` glob) on every server of `servers`, using
    /// `fallbackPassword` for servers whose address carries none and `tls` for `rediss://` servers
    /// (a server's own `tls` first). `onEvent` is called on the subscription threads, one per server.
    ///
    /// - Throws: `RedLockError` `.invalidConfiguration` naming a TLS file that is missing or unusable.
    package init(servers: [RedisServerAddress], fallbackPassword: String?, tls: RedLockConfiguration.TLS = .init(), pattern: String,
                 onEvent: @escaping @Sendable (Event) -> Void) throws(RedLockError) {
        let peers = try TLSContext.contexts(for: servers, common: tls)
        for (index, address) in servers.enumerated() {
            let peer = Unchecked(peers[index])  // immutable after creation (see TLSContext)
            _ = DetachedThread.start { [self] in
                follow(address, index: index, tls: peer.value, authentication: address.authArguments(fallbackPassword: fallbackPassword),
                       pattern: pattern, onEvent: onEvent)
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

    private func follow(_ address: RedisServerAddress, index: Int, tls: TLSPeer?, authentication: [String]?, pattern: String,
                        onEvent: @escaping @Sendable (Event) -> Void) {
        // A write to a connection the server (or `stop()`) closed fails with EPIPE here instead of
        // killing the process: OpenSSL writes with plain `write`.
        var brokenPipe = sigset_t()
        sigemptyset(&brokenPipe)
        sigaddset(&brokenPipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &brokenPipe, nil)
        while !isStopped {
            switch subscribeAndRead(address, index: index, tls: tls, authentication: authentication, pattern: pattern, onEvent: onEvent) {
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

    /// How long connecting (and the TLS handshake) may take.
    private static let connectTimeout: Int32 = 2000

    /// One connection's life: connect, authenticate, subscribe, then hand on messages until the
    /// connection fails or `stop()` shuts its socket down. The same connection type as the
    /// client's, driven by a `poll` of its own on this thread.
    private func subscribeAndRead(_ address: RedisServerAddress, index: Int, tls: TLSPeer?, authentication: [String]?, pattern: String,
                                  onEvent: @escaping @Sendable (Event) -> Void) -> Ending {
        let connection = RedisConnection(id: ConnectionID(index), tls: tls)
        let target: ConnectTarget
        switch address.endpoint {
        case .unix(let path):
            target = .unix(path: path)
        case .tcp(let host, let port):
            switch HostResolver.lookUp(host, port: port) {
            case .success(let resolved): target = resolved
            case .failure(let failure): return .failed(failure.description)
            }
        }
        if let failure = connection.connect(to: target) { return .failed(failure.description) }
        let registered = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.sockets[index] = connection.fileDescriptor
            return true
        }
        guard registered else { return .stopped }
        defer { _ = state.withLock { $0.sockets.removeValue(forKey: index) } }
        var refusal: String?
        let refused: RedisConnection.ReplyHandler = { result in
            if case .success(.error(let line)) = result { refusal = line }
        }
        if let authentication { connection.appendGate(RedisCommand.encode(authentication), handler: refused) }
        connection.append(RedisCommand.encode(["PSUBSCRIBE", pattern])) { result in
            refused(result)
            if case .success(.array) = result { onEvent(.subscribed(server: index)) }
        }
        connection.onMessage = { channel, payload in onEvent(.message(server: index, channel: channel, payload: payload)) }
        while refusal == nil, connection.state != .closed {
            let opening = connection.state != .open
            var descriptor = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN) | (connection.wantsWrite ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&descriptor, 1, opening ? Self.connectTimeout : -1)
            if ready == 0 { return .failed(ServerOutcome(.timedOut, detail: connection.stallDescription).description) }
            guard ready > 0 else { continue }
            let readable = descriptor.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
            if let failure = connection.handleEvents(readable: readable, writable: descriptor.revents & Int16(POLLOUT) != 0) {
                return isStopped ? .stopped : .failed(failure.description)
            }
        }
        connection.fail(ServerOutcome(.connectionClosed, detail: "subscription ended"))
        return isStopped ? .stopped : .failed(refusal ?? "connection closed")
    }
}
