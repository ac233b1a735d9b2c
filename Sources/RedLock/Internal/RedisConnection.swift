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

/// One non-blocking connection to one server, plain or TLS. Confined to the thread that created it,
/// the event loop's (asserted on entry).
///
/// Bytes travel through a `ByteTransport` (the socket, or a TLS session over it); hiredis encodes
/// the commands and its `redisReader` parses the replies, so plain and TLS share everything above
/// the transport. A TLS connection sends nothing before its handshake has verified the server.
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
        /// TLS handshake in progress (nothing of ours is sent yet).
        case securing
        /// Connected (and for TLS, the server verified); commands flow.
        case open
        /// Failed or closed; holds no socket.
        case closed
    }

    let id: ConnectionID
    private let loopThread = LoopThread()
    private(set) var state: State = .resolving
    /// The socket, or -1 while resolving or after closing.
    private(set) var fileDescriptor: Int32 = -1
    private let tlsPeer: TLSPeer?
    private var transport: ByteTransport?
    private let reader: UnsafeMutablePointer<redisReader>
    /// Where a read lands until the reader copies it (nothing else runs in between). Allocated once
    /// per connection: a 16 KiB heap allocation per read made glibc consolidate its free lists
    /// about 6 times per acquire+release (issue 13).
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: RedisConnection.readSize, alignment: 1)
    /// Encoded commands; `output[written...]` is still to be written.
    private var output: [UInt8] = []
    private var written = 0
    /// A TLS write that can only go on after the socket was readable (a renegotiation): not polled
    /// for writability until a read happened, or it would spin.
    private var writeWaitsForRead = false
    /// Whether any byte came back (a plain connection closed without a reply hints at a TLS-only port).
    private var heardFromServer = false
    private var handlers: [ReplyHandler] = []
    private var nextHandler = 0
    /// Gating handshake commands whose success is still awaited.
    private var openGates = 0
    /// Commands appended while a gate was open, sent once every gate has succeeded.
    private var heldBack: [UInt8] = []

    /// Why the connection stopped, once it has.
    private(set) var failure: ConnectionFailure?

    /// For a subscriber connection: receives the channel and payload of each pub/sub `message` (or
    /// `pmessage`), which the server pushes unasked, between the replies to (un)subscribe commands.
    var onMessage: ((_ channel: String, _ payload: String) -> Void)?

    /// Replies still owed by the server.
    var pendingReplies: Int { handlers.count - nextHandler }
    /// True while the socket has bytes to write (or is connecting, or TLS waits to write).
    var wantsWrite: Bool {
        switch state {
        case .connecting: true
        case .securing: transport?.waitsForWritable ?? false
        case .open: written < output.count && !writeWaitsForRead || transport?.waitsForWritable == true
        case .resolving, .closed: false
        }
    }

    /// A connection that will speak TLS to `tls` when given, plain otherwise.
    init(id: ConnectionID, tls: TLSPeer? = nil) {
        self.id = id
        self.tlsPeer = tls
        self.reader = redisReaderCreate()
    }

    deinit {
        if fileDescriptor >= 0 { close(fileDescriptor) }
        redisReaderFree(reader)
        readBuffer.deallocate()
    }

    // MARK: Connecting

    /// Starts a non-blocking connect to a numeric IP address or a Unix socket path.
    /// Returns the failure when the connect fails at once (e.g. refused on loopback).
    func connect(to target: ConnectTarget) -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        guard state == .resolving else { return nil }
        switch SocketConnector.startConnect(to: target) {
        case .failure(let failure): return fail(failure)
        case .success(let socket):
            fileDescriptor = socket
            state = .connecting
            return nil
        }
    }

    /// Advances the connection on what `poll` reported for its socket: finishes the connect, drives
    /// the TLS handshake, writes and reads (handing out replies). Returns the failure that closed it.
    func handleEvents(readable: Bool, writable: Bool) -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        switch state {
        case .connecting: if let failure = finishConnecting() { return failure }
        case .securing: if let failure = continueHandshake() { return failure }
        case .resolving, .open, .closed: break
        }
        guard tlsPeer != nil else {
            if writable, let failure = flush() { return failure }
            return readable ? readReplies() : nil
        }
        guard readable || writable else { return nil }
        // TLS may need the other direction to finish a read or a write (trying costs a syscall).
        // Reading first hears a server's alert (a rejected client certificate) before a write to
        // the closing socket fails with a bare reset.
        if let failure = readReplies() { return failure }
        return state == .open ? flush() : nil
    }

    /// Checks the connect's result, then starts the TLS handshake or opens the connection for commands.
    private func finishConnecting() -> ConnectionFailure? {
        if let failure = SocketConnector.connectFailure(of: fileDescriptor) { return fail(failure) }
        guard let tlsPeer else {
            transport = .plain(socket: fileDescriptor)
            state = .open
            return nil
        }
        switch TLSSession.open(peer: tlsPeer, socket: fileDescriptor) {
        case .success(let session): transport = .tls(session)
        case .failure(let failure): return fail(failure)
        }
        state = .securing
        return continueHandshake()
    }

    /// Drives the TLS handshake on a `poll` event; once the server is verified, sends what waits.
    private func continueHandshake() -> ConnectionFailure? {
        guard state == .securing, case .tls(let session) = transport else { return nil }
        switch session.handshake() {
        case .success(let done): if !done { return nil }
        case .failure(let failure): return fail(failure)
        }
        state = .open
        return flush()
    }

    /// The dates of the server's TLS certificate, once the handshake has succeeded; nil for plain TCP.
    var peerCertificate: TLSCertificateValidity? {
        loopThread.preconditionOnLoopThread()
        guard case .tls(let session) = transport else { return nil }
        return session.peerCertificate
    }

    /// What a round that timed out on this connection reports: where it stalled.
    var stallDescription: String? {
        switch state {
        case .resolving: "resolving the host name"
        case .connecting: "connecting"
        case .securing: "in the TLS handshake (a stalled server, or a port without TLS: use redis://)"
        case .open, .closed: nil
        }
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
        // Unowned, not weak: a weak reference would slow every retain of this connection (see ServerSlot).
        enqueue(bytes, heldBehindGates: false) { [unowned self] result in
            handler(result)
            guard self.state != .closed, case .success(let reply) = result else { return }
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

    private func send(_ bytes: [UInt8]) {
        output.append(contentsOf: bytes)
    }

    /// Writes as much pending output as the socket takes now. Returns the failure if the write failed.
    @discardableResult
    func flush() -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        guard state == .open, let transport else { return nil }
        while written < output.count {
            let transfer = output.withUnsafeBytes { transport.write(UnsafeRawBufferPointer(rebasing: $0[written...])) }
            switch transfer {
            case .moved(let count):
                written += count
            case .wouldBlock:
                writeWaitsForRead = !transport.waitsForWritable && tlsPeer != nil
                return nil
            case .failed(let failure):
                return fail(tlsPeer == nil ? failure : reasonBehind(failure))
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= Self.keptOutputCapacity)
        written = 0
        return nil
    }

    /// Reads what the socket has and hands out every complete reply. Returns the failure on EOF,
    /// a socket error or a protocol error.
    @discardableResult
    func readReplies() -> ConnectionFailure? {
        loopThread.preconditionOnLoopThread()
        guard state == .open, let transport else { return nil }
        writeWaitsForRead = false
        var full = true
        // A TLS session may hold decrypted bytes the socket no longer shows: read until it would block.
        while full, state == .open {
            let transfer = transport.read(into: readBuffer)
            if case .moved(let count) = transfer {
                _ = redisReaderFeed(reader, readBuffer.baseAddress?.assumingMemoryBound(to: CChar.self), count)
            }
            switch transfer {
            case .moved(let count):
                heardFromServer = true
                full = count == Self.readSize || tlsPeer != nil
                if let failure = handOutReplies() { return failure }
            case .wouldBlock:
                return nil
            case .failed(var failure):
                if !heardFromServer, tlsPeer == nil, pendingReplies > 0, failure.kind == .connectionClosed, isTCP {
                    failure = ServerOutcome(.closedWithoutReply, detail: failure.detail)
                }
                return fail(failure)
            }
        }
        return nil
    }

    /// A TLS write failed (typically reset): the server may have said why first, in an alert still
    /// waiting to be read (a rejected client certificate). That reason, or `failure`.
    private func reasonBehind(_ failure: ConnectionFailure) -> ConnectionFailure {
        guard let transport else { return failure }
        let transfer = transport.read(into: readBuffer)
        if case .failed(let reason) = transfer, reason.kind != .connectionClosed { return reason }
        return failure
    }

    /// Hands every complete reply in the reader to its handler (or `onMessage`).
    private func handOutReplies() -> ConnectionFailure? {
        while state == .open {
            var raw: UnsafeMutableRawPointer?
            if redisReaderGetReply(reader, &raw) != REDIS_OK {
                return fail(.init(.protocolError, detail: String(cString: chiredis_reader_errstr(reader))))
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

    /// Bytes read per call (as hiredis does).
    private static let readSize = 16 * 1024
    /// An output buffer grown beyond this (a long pipeline to a stalled server) is freed once written.
    private static let keptOutputCapacity = 64 * 1024

    private var isTCP: Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let known = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fileDescriptor, $0, &length) == 0 }
        }
        return known && Int32(address.ss_family) != AF_UNIX
    }

    /// Closes the socket and fails every handler still waiting with `failure`. Idempotent.
    @discardableResult
    func fail(_ failure: ConnectionFailure) -> ConnectionFailure {
        loopThread.preconditionOnLoopThread()
        guard state != .closed else { return failure }
        state = .closed
        self.failure = failure
        transport = nil
        if fileDescriptor >= 0 {
            close(fileDescriptor)
            fileDescriptor = -1
        }
        output = []
        written = 0
        let waiting = handlers[nextHandler...]
        handlers = []
        nextHandler = 0
        for handler in waiting { handler(.failure(failure)) }
        return failure
    }

    /// The channel and payload of a pub/sub `message` (or pattern `pmessage`) push, or nil for any
    /// other reply.
    private static func pushedMessage(_ reply: RedisReply) -> (String, String)? {
        guard case .array(let parts) = reply else { return nil }
        let kind = parts.first, channelAt = parts.count - 2
        guard parts.count == 3 && kind == .bulk("message") || parts.count == 4 && kind == .bulk("pmessage"),
              case .bulk(let channel) = parts[channelAt], case .bulk(let payload) = parts[channelAt + 1] else { return nil }
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
