#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a connection's bytes travel once its socket is connected: straight through the socket, or
/// through a TLS session over it. Both are non-blocking; what to wait for is reported, never waited.
enum ByteTransport {
    case plain(socket: Int32)
    case tls(TLSSession)

    /// What one read or write did.
    enum Transfer {
        /// Moved this many bytes (more than 0).
        case moved(Int)
        /// Nothing to move now; `poll` says when to try again.
        case wouldBlock
        /// The connection is over: closed by the server, reset, or broken (the outcome says which).
        case failed(ServerOutcome)
    }

    /// Writes what the socket takes of `bytes` now.
    func write(_ bytes: UnsafeRawBufferPointer) -> Transfer {
        switch self {
        case .plain(let socket):
            let written = sendWithoutSignal(socket, bytes)
            if written > 0 { return .moved(written) }
            if written < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
            return .failed(ServerOutcome(.connectionClosed, detail: String(cString: strerror(errno))))
        case .tls(let session):
            return session.write(bytes)
        }
    }

    /// Reads what has arrived, up to `buffer.count` bytes.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Transfer {
        switch self {
        case .plain(let socket):
            let count = receive(socket, buffer)
            if count > 0 { return .moved(count) }
            if count == 0 { return .failed(ServerOutcome(.connectionClosed, detail: "closed by the server")) }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
            return .failed(ServerOutcome(.connectionClosed, detail: String(cString: strerror(errno))))
        case .tls(let session):
            return session.read(into: buffer)
        }
    }

    /// True when a TLS read or write can only go on once the socket is writable.
    var waitsForWritable: Bool {
        if case .tls(let session) = self { return session.waitsForWritable }
        return false
    }
}

/// `send` that reports a closed peer as `EPIPE` rather than raising `SIGPIPE` (Linux).
private func sendWithoutSignal(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
    #if os(Linux)
    send(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    #else
    send(socket, bytes.baseAddress, bytes.count, 0)
    #endif
}

private func receive(_ socket: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    read(socket, buffer.baseAddress, buffer.count)
}
