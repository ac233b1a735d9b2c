import CHiredis
import COpenSSL
import Foundation

/// `HiredisFloor` over TLS: one blocking socket and OpenSSL session per server, verified against a
/// CA file (chain and the `127.0.0.1` address, as the library checks), commands encoded by hiredis
/// and replies parsed by its `redisReader` from the bytes `SSL_read` returns. The handshakes run in
/// parallel (non-blocking, one `poll` loop); the rounds are blocking. No threads, no Swift
/// concurrency: what any lock over TLS on these servers cannot beat.
public final class TLSFloor: FloorConnections {
    private struct Connection {
        let socket: Int32
        let ssl: OpaquePointer
        let reader: UnsafeMutablePointer<redisReader>
    }

    private let context: OpaquePointer
    private var connections: [Connection] = []
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// Loads `caFile` into a fresh client context, connects to every port on 127.0.0.1 and completes
    /// every handshake (in parallel, within 10 s). Throws if any step fails.
    public init(ports: [Int], caFile: String) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw HarnessError("tls floor: SSL_CTX_new failed") }
        self.context = context
        guard copenssl_require_tls12(context) == 1, SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
            throw HarnessError("tls floor: cannot load \(caFile)")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        for port in ports { connections.append(try Self.connect(port: port, context: context)) }
        try handshakeAll()
        for connection in connections { _ = fcntl(connection.socket, F_SETFL, fcntl(connection.socket, F_GETFL) & ~O_NONBLOCK) }
    }

    deinit {
        for connection in connections {
            SSL_free(connection.ssl)
            close(connection.socket)
            redisReaderFree(connection.reader)
        }
        SSL_CTX_free(context)
    }

    public var serverCount: Int { connections.count }

    private static func connect(port: Int, context: OpaquePointer) throws -> Connection {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HarnessError("tls floor: socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        guard connected == 0, fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK) == 0,
              let ssl = SSL_new(context) else {
            close(socket)
            throw HarnessError("tls floor: cannot connect to 127.0.0.1:\(port)")
        }
        guard SSL_set_fd(ssl, socket) == 1, X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") == 1,
              let reader = redisReaderCreate() else {
            SSL_free(ssl)
            close(socket)
            throw HarnessError("tls floor: cannot set up the session for 127.0.0.1:\(port)")
        }
        SSL_set_connect_state(ssl)
        return Connection(socket: socket, ssl: ssl, reader: reader)
    }

    /// Drives every handshake until all are done: `SSL_do_handshake` on each, `poll` for what the
    /// pending ones wait for.
    private func handshakeAll() throws {
        var pending = Array(connections.indices)
        let deadline = ContinuousClock.now + .seconds(10)
        while !pending.isEmpty {
            var waits: [pollfd] = []
            var still: [Int] = []
            for index in pending {
                let connection = connections[index]
                let result = SSL_do_handshake(connection.ssl)
                if result == 1 { continue }
                let events: Int32
                switch SSL_get_error(connection.ssl, result) {
                case SSL_ERROR_WANT_READ: events = Int32(POLLIN)
                case SSL_ERROR_WANT_WRITE: events = Int32(POLLOUT)
                default: throw HarnessError("tls floor: handshake failed (verify result \(SSL_get_verify_result(connection.ssl)))")
                }
                still.append(index)
                waits.append(pollfd(fd: connection.socket, events: Int16(events), revents: 0))
            }
            pending = still
            guard !pending.isEmpty else { break }
            guard ContinuousClock.now < deadline else { throw HarnessError("tls floor: handshake timed out") }
            _ = poll(&waits, nfds_t(waits.count), 1000)
        }
    }

    public func round(_ arguments: [String], servers: Int) throws {
        let command = try Self.encode(arguments)
        defer { free(command.bytes) }
        for connection in connections.prefix(servers) {
            guard SSL_write(connection.ssl, command.bytes, command.count) == command.count else {
                throw HarnessError("tls floor: write failed")
            }
        }
        for connection in connections.prefix(servers) {
            try readReply(connection)
        }
    }

    /// `SSL_read` into the reader until it holds one whole reply; throws on an error reply.
    private func readReply(_ connection: Connection) throws {
        var reply: UnsafeMutableRawPointer?
        while true {
            guard redisReaderGetReply(connection.reader, &reply) == REDIS_OK else { throw HarnessError("tls floor: protocol error") }
            if let reply {
                let isError = reply.assumingMemoryBound(to: redisReply.self).pointee.type == REDIS_REPLY_ERROR
                freeReplyObject(reply)
                if isError { throw HarnessError("tls floor: the server answered an error") }
                return
            }
            let count = buffer.withUnsafeMutableBytes { SSL_read(connection.ssl, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { throw HarnessError("tls floor: read failed") }
            _ = buffer.withUnsafeBytes { redisReaderFeed(connection.reader, $0.baseAddress!.assumingMemoryBound(to: CChar.self), Int(count)) }
        }
    }

    /// The RESP bytes of `arguments` (hiredis's encoder; `free` them).
    private static func encode(_ arguments: [String]) throws -> (bytes: UnsafeMutablePointer<CChar>, count: Int32) {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer($0) }
        var lengths = arguments.map { $0.utf8.count }
        var target: UnsafeMutablePointer<CChar>?
        let count = redisFormatCommandArgv(&target, Int32(arguments.count), &pointers, &lengths)
        guard count > 0, let target else { throw HarnessError("tls floor: cannot encode \(arguments.first ?? "")") }
        return (target, count)
    }
}
