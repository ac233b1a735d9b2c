import Foundation

/// A TCP proxy on a free loopback port in front of one real server. It forwards both ways until
/// told to `hangMidReply()`; from then on every connection (open or new) gets only the first part
/// of its next reply and then nothing more, while the connection stays open: the server that
/// "hangs mid-reply". Commands are still forwarded, so the server does run them.
public final class HangingProxy: @unchecked Sendable {
    /// The proxy's own port; point clients at `url`.
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var hanging = false
    private var closed = false
    private var connections: [Int32] = []

    /// Listens on a free loopback port and forwards each connection to `127.0.0.1:upstreamPort`.
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && getsockname(listener, pointer, &length) == 0 && listen(listener, 64) == 0
            }
        }
        guard listening else { Glibc.close(listener); throw HarnessError("proxy: cannot listen on loopback") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    deinit { close() }

    /// `redis://127.0.0.1:<proxy port>`
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// From now on, cut every reply after its first half and send nothing more on that connection.
    public func hangMidReply() { lock.withLock { hanging = true } }

    /// Stops listening and closes every connection. Idempotent.
    public func close() {
        // Under the lock, so that no descriptor is shut down after its pump closed it (and the
        // number was reused elsewhere).
        lock.withLock {
            guard !closed else { return }
            closed = true
            shutdown(listener, Int32(SHUT_RDWR))
            Glibc.close(listener)
            connections.forEach { shutdown($0, Int32(SHUT_RDWR)) }
        }
    }

    private var isHanging: Bool { lock.withLock { hanging } }
    private var isClosed: Bool { lock.withLock { closed } }

    private func acceptLoop() {
        while !isClosed {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            let registered = lock.withLock { () -> Bool in
                guard !closed, connected else { return false }
                connections += [client, upstream]
                return true
            }
            guard registered else { Glibc.close(client); Glibc.close(upstream); continue }
            Thread { [self] in pump(client: client, upstream: upstream) }.start()
        }
    }

    /// Moves bytes both ways until either side closes or the proxy does.
    private func pump(client: Int32, upstream: Int32) {
        defer {
            lock.withLock {
                connections.removeAll { $0 == client || $0 == upstream }
                Glibc.close(client)
                Glibc.close(upstream)
            }
        }
        var cut = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        while !isClosed {
            guard poll(&fds, 2, 50) >= 0 || errno == EINTR else { return }
            if fds[0].revents != 0 {
                let count = read(client, &buffer, buffer.count)
                guard count > 0, Self.writeAll(upstream, buffer, count) else { return }
            }
            if fds[1].revents != 0 {
                let count = read(upstream, &buffer, buffer.count)
                guard count > 0 else { return }
                if cut { continue }
                if isHanging {
                    cut = true
                    guard Self.writeAll(client, buffer, max(1, count / 2)) else { return }
                } else {
                    guard Self.writeAll(client, buffer, count) else { return }
                }
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ count: Int) -> Bool {
        var written = 0
        while written < count {
            let result = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
