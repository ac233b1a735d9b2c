#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisIO

/// Turns host names into numeric addresses off the event loop: `getaddrinfo` blocks (DNS), so each
/// lookup runs on a short-lived thread of its own and posts its answer back to the loop. A lookup
/// that hangs only delays that server's connection, which its round's deadline already bounds.
enum HostResolver {
    /// True when `host` is an IPv4 or IPv6 literal, which needs no lookup.
    static func isNumeric(_ host: String) -> Bool {
        var buffer = in6_addr()
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    /// Resolves `host` and calls `completion` on the event loop with the first address found.
    static func resolve(_ host: String, port: Int, on loop: EventLoop,
                        completion: @escaping @Sendable (Reactor, ServerResult<ConnectTarget>) -> Void) {
        let started = DetachedThread.start {
            let result = lookUp(host, port: port)
            loop.execute { reactor in completion(reactor, result) }
        }
        if !started {
            loop.execute { reactor in completion(reactor, .failure(ServerOutcome(.connectionFailed, detail: "could not start a resolver thread"))) }
        }
    }

    /// `getaddrinfo` hints for TCP addresses of any family.
    static func streamHints(flags: Int32) -> addrinfo {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = flags
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        return hints
    }

    /// The first address of `host` (blocking: call it off the event loop).
    static func lookUp(_ host: String, port: Int) -> ServerResult<ConnectTarget> {
        var hints = streamHints(flags: 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            return .failure(ServerOutcome(.connectionFailed, detail: "cannot resolve host \"\(host)\": \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return .failure(ServerOutcome(.connectionFailed, detail: "cannot resolve host \"\(host)\""))
        }
        return .success(.tcp(ip: name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, port: port))
    }
}
