#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens non-blocking, close-on-exec sockets and starts their connects (TCP with `TCP_NODELAY`,
/// or a Unix socket); `poll` reporting the socket writable means the connect is over.
enum SocketConnector {
    /// A socket whose connect to `target` is under way (or done), or why it could not start.
    static func startConnect(to target: ConnectTarget) -> ServerResult<Int32> {
        switch target {
        case .tcp(let ip, let port):
            var hints = HostResolver.streamHints(flags: AI_NUMERICHOST | AI_NUMERICSERV)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(ip, String(port), &hints, &list)
            guard status == 0, let address = list else {
                return .failure(ServerOutcome(.connectionFailed, detail: "bad address \(ip): \(String(cString: gai_strerror(status)))"))
            }
            defer { freeaddrinfo(list) }
            return openSocket(family: address.pointee.ai_family, address.pointee.ai_addr, address.pointee.ai_addrlen, noDelay: true)
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard path.utf8.count < capacity else {
                return .failure(ServerOutcome(.connectionFailed, detail: "the socket path is longer than \(capacity - 1) bytes"))
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.utf8)
                raw[path.utf8.count] = 0
            }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    openSocket(family: AF_UNIX, $0, socklen_t(MemoryLayout<sockaddr_un>.size), noDelay: false)
                }
            }
        }
    }

    /// The connect's outcome once `poll` reported the socket: nil when connected.
    static func connectFailure(of socket: Int32) -> ServerOutcome? {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
        return error == 0 ? nil : ServerOutcome(.connectionFailed, detail: String(cString: strerror(error)))
    }

    private static func openSocket(family: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t,
                                noDelay: Bool) -> ServerResult<Int32> {
        #if canImport(Glibc)
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(family, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return .failure(failure()) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        if noDelay {
            var on: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        if connect(descriptor, address, length) != 0, errno != EINPROGRESS {
            let failed = failure()
            close(descriptor)
            return .failure(failed)
        }
        return .success(descriptor)
    }

    private static func failure() -> ServerOutcome {
        ServerOutcome(.connectionFailed, detail: String(cString: strerror(errno)))
    }
}
