#if canImport(Glibc)
import Glibc
#endif

/// Where one of the demo's redis-servers listens: a Unix socket in the demo's directory, or with
/// TLS a free 127.0.0.1 port (TLS only, no plain port) with the certificate `makeCertificates` made.
struct DemoListener {
    /// The redis-server options that make it listen there.
    let arguments: [String]
    /// The address the hosts are given.
    let url: String

    init(index: Int, directory: String, tls: Bool) {
        guard tls else {
            let socket = "\(directory)/redis-\(index).sock"
            arguments = ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700"]
            url = "unix://\(socket)"
            return
        }
        let port = Self.freePort()
        arguments = ["--port", "0", "--bind", "127.0.0.1", "--tls-port", "\(port)",
                     "--tls-cert-file", "\(directory)/server.pem", "--tls-key-file", "\(directory)/server.key",
                     "--tls-ca-cert-file", "\(directory)/ca.pem", "--tls-auth-clients", "no"]
        url = "rediss://127.0.0.1:\(port)"
    }

    /// A port on 127.0.0.1 that nothing listens on now (the kernel's pick; 0 if it would not say).
    private static func freePort() -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : 0
    }
}
