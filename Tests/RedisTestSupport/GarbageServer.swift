import Foundation

/// A plain TCP listener on a free loopback port that is not Redis: it answers every connection
/// with fixed bytes (or says nothing at all), to test how the client copes with a wrong server.
public final class GarbageServer: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let reply: [UInt8]?

    /// Answers every connection with `reply` (nil: silence) and closes it, or with `keepsOpen`
    /// leaves it open after the reply, so the client reads the reply rather than a closed socket.
    public init(reply: String?, keepsOpen: Bool = false) throws {
        let replyBytes = reply.map { Array($0.utf8) }
        self.reply = replyBytes
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && getsockname(listener, pointer, &length) == 0 && listen(listener, 16) == 0
            }
        }
        guard listening else { close(listener); throw HarnessError("cannot listen on loopback") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                if var bytes = replyBytes {
                    _ = write(connection, &bytes, bytes.count)
                    if !keepsOpen { close(connection) }
                }
            }
        }
        thread.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    public var url: String { "redis://127.0.0.1:\(port)" }
}
