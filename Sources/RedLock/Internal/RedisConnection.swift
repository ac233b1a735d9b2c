import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisIO

/// Identifies one connection for the life of a client, so a lock can ask for "the connection its SET
/// went out on" and have its release queued behind that SET.
typealias ConnectionID = UInt64

/// One non-blocking hiredis connection to one server. Confined to the thread that created it, the
/// event loop's (asserted on entry).
///
/// Commands are pipelined: each appended command queues a reply handler, and replies are handed out
/// in order. The owner appends the handshake ahead of any command; commands appended while a gating
/// handshake command (`AUTH`, `SELECT`) has not yet succeeded are held back, because a server that
/// rejects `AUTH` for the default user, or a `SELECT` out of range, would still run them (in the
/// wrong account or database) and leave their keys behind. Any failure fails every queued handler
/// at once and closes the socket; the connection is then dead for good (the owner opens a new one).
final class RedisConnection {
    typealias ReplyHandler = (ServerResult<RedisReply>) -> Void

    enum State {
        /// Waiting for the host name to resolve (no socket yet).
        case resolving
        /// Non-blocking `connect` in progress.
        case connecting
        /// Connected; commands flow.
        case open
        /// Failed or closed; holds no socket.
        case closed
    }

    let id: ConnectionID
    private let loopThread = LoopThread()
    private(set) var state: State = .resolving
    private var context: UnsafeMutablePointer<redisContext>?
    /// Commands appended before the socket existed (while resolving).
    private var unsentBeforeConnect: [UInt8] = []
    private var handlers: [ReplyHandler] = []
    private var nextHandler = 0
    /// Gating handshake commands whose success is still awaited.
    private var openGates = 0
    /// Commands appended while a gate was open, sent once every gate has succeeded.
    private var heldBack: [UInt8] = []

    /// Appends encoded bytes to hiredis' output buffer (`redisAppendFormattedCommand`, which fails
    /// only when out of memory). Tests replace it on one connection to make an append fail.
    var appendToContext: (UnsafeMutablePointer<redisContext>, UnsafePointer<CChar>?, Int) -> Int32 = redisAppendFormattedCommand
    /// Why the connection stopped, once it has.
    private(set) var failure: ConnectionFailure?

    /// For a subscriber connection: receives the channel and payload of each pub/sub `message`,
    /// which the server pushes unasked, between the replies to (un)subscribe commands.
    var onMessage: ((_ channel: String, _ payload: String) -> Void)?

    /// The socket, or -1 while resolving or after closing.
    var fileDescriptor: Int32 { context?.pointee.fd ?? -1 }
    /// Replies still owed by the server.
    var pendingReplies: Int { handlers.count - nextHandler }
    /// True while the socket has bytes to write (or is still connecting).
    var wantsWrite: Bool {
        guard let context else { return false }
        return state == .connecting || chiredis_unwritten(context) > 0
    }

    init(id: ConnectionID) {
        self.id = id
    }

    deinit {
        if let context { redisFree(context) }
    }

    // MARK: Connecting

    /// Starts a non-blocking connect to a numeric IP address or a Unix socket path.
    /// Returns the failure when the connect fails at once (e.g. refused on loopback).
    func connect(to target: ConnectTarget) -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        let created: UnsafeMutablePointer<redisContext>?
        switch target {
        case .tcp(let ip, let port): created = redisConnectNonBlock(ip, Int32(port))
        case .unix(let path): created = redisConnectUnixNonBlock(path)
        }
        guard let created else { return fail(.init(.connectionFailed, detail: "out of memory")) }
        context = created
        if created.pointee.err != 0 {
            return fail(.init(.connectionFailed, detail: String(cString: chiredis_errstr(created))))
        }
        _ = fcntl(created.pointee.fd, F_SETFD, FD_CLOEXEC)
        state = .connecting
        let unsent = unsentBeforeConnect
        unsentBeforeConnect = []
        return unsent.isEmpty ? nil : send(unsent)
    }

    /// Called when `poll` reports the connecting socket writable: checks the connect's result.
    func finishConnecting() -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fileDescriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
        guard error == 0 else {
            return fail(.init(.connectionFailed, detail: String(cString: strerror(error))))
        }
        state = .open
        return nil
    }

    // MARK: Commands

    /// Queues a command; its reply (or the connection's failure) goes to `handler`, in order.
    /// While a gate is open (see `appendGate`), it is held back until every gate has passed.
    func append(_ bytes: [UInt8], handler: @escaping ReplyHandler) {
        loopThread.preconditionOnLoopThread()
        enqueue(bytes, heldBehindGates: openGates > 0, handler)
    }

    /// Queues a handshake command that later commands must wait for: they are sent only once every
    /// gate's reply is not an error. (On an error the owner fails the connection, and with it them.)
    /// Gates are the handshake, queued before any other command, so each goes out at once: AUTH
    /// and SELECT share one round trip, and the server runs them in order.
    func appendGate(_ bytes: [UInt8], handler: @escaping ReplyHandler) {
        loopThread.preconditionOnLoopThread()
        assert(heldBack.isEmpty, "a gate queued behind held-back commands would overtake them")
        enqueue(bytes, heldBehindGates: false) { [weak self] result in
            handler(result)
            guard let self, self.state != .closed, case .success(let reply) = result else { return }
            if case .error = reply { return }
            self.openGates -= 1
            if self.openGates == 0, !self.heldBack.isEmpty {
                self.send(self.heldBack)
                self.heldBack = []
            }
        }
        openGates += 1
    }

    private func enqueue(_ bytes: [UInt8], heldBehindGates: Bool, _ handler: @escaping ReplyHandler) {
        guard state != .closed else {
            handler(.failure(.init(.connectionClosed, detail: "connection already closed")))
            return
        }
        handlers.append(handler)
        if heldBehindGates {
            heldBack.append(contentsOf: bytes)
        } else {
            send(bytes)
        }
    }

    /// Hands `bytes` to hiredis (or keeps them until the socket exists). An append that fails
    /// fails the connection, with every handler queued: a handler whose command is not on the wire
    /// would be handed the next command's reply. Returns that failure.
    @discardableResult
    private func send(_ bytes: [UInt8]) -> ConnectionFailure? {
        guard let context else {
            unsentBeforeConnect.append(contentsOf: bytes)
            return nil
        }
        let appended = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { appendToContext(context, $0.baseAddress, $0.count) }
        }
        guard appended != REDIS_OK else { return nil }
        let reason = context.pointee.err != 0 ? String(cString: chiredis_errstr(context)) : "out of memory"
        return fail(.init(.connectionClosed, detail: "cannot queue a command: \(reason)"))
    }

    /// Writes as much pending output as the socket takes now. Returns the failure if the write failed.
    @discardableResult
    func flush() -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        guard state == .open, let context else { return nil }
        var done: Int32 = 0
        if redisBufferWrite(context, &done) != REDIS_OK {
            return fail(.init(.connectionClosed, detail: String(cString: chiredis_errstr(context))))
        }
        return nil
    }

    /// Reads what the socket has and hands out every complete reply. Returns the failure on EOF,
    /// a socket error or a protocol error.
    @discardableResult
    func readReplies() -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        guard state == .open, let context else { return nil }
        if redisBufferRead(context) != REDIS_OK {
            let kind: ServerOutcome.Kind = context.pointee.err == REDIS_ERR_PROTOCOL ? .protocolError : .connectionClosed
            return fail(.init(kind, detail: String(cString: chiredis_errstr(context))))
        }
        while state == .open {
            var raw: UnsafeMutableRawPointer?
            if redisGetReplyFromReader(context, &raw) != REDIS_OK {
                return fail(.init(.protocolError, detail: String(cString: chiredis_errstr(context))))
            }
            guard let raw else { break }
            let reply = RedisReply(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            if let onMessage, let (channel, payload) = Self.pushedMessage(reply) {
                onMessage(channel, payload)
                continue
            }
            guard nextHandler < handlers.count else {
                return fail(.init(.protocolError, detail: "the server sent a reply nobody asked for"))
            }
            let handler = handlers[nextHandler]
            nextHandler += 1
            compactHandlersIfDrained()
            handler(.success(reply))
        }
        return nil
    }

    /// Closes the socket and fails every handler still waiting with `failure`. Idempotent.
    @discardableResult
    func fail(_ failure: ConnectionFailure) -> ConnectionFailure {
        loopThread.preconditionOnLoopThread()
        guard state != .closed else { return failure }
        state = .closed
        self.failure = failure
        if let context {
            redisFree(context)
            self.context = nil
        }
        let waiting = handlers[nextHandler...]
        handlers = []
        nextHandler = 0
        for handler in waiting { handler(.failure(failure)) }
        return failure
    }

    /// The channel and payload of a pub/sub `message` push, or nil for any other reply.
    private static func pushedMessage(_ reply: RedisReply) -> (String, String)? {
        guard case .array(let parts) = reply, parts.count == 3, parts[0] == .bulk("message"),
              case .bulk(let channel) = parts[1], case .bulk(let payload) = parts[2] else { return nil }
        return (channel, payload)
    }

    private func compactHandlersIfDrained() {
        if nextHandler == handlers.count {
            handlers.removeAll(keepingCapacity: true)
            nextHandler = 0
        }
    }
}

/// Why a connection stopped: the outcome every command still waiting on it gets.
typealias ConnectionFailure = ServerOutcome

/// Where to open a socket: a numeric address (already resolved) or a Unix socket path.
enum ConnectTarget: Sendable {
    case tcp(ip: String, port: Int)
    case unix(path: String)
}
