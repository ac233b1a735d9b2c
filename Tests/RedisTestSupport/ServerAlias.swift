/// Another address of the same server than its `url` (`redis://127.0.0.1:PORT`), for tests of
/// "one server, one vote".
public enum ServerAlias: String, CaseIterable, Sendable {
    case hostName = "localhost", shortIPv4 = "127.1", unixSocket = "unix socket"

    /// The alias's address of `server`.
    public func url(of server: RedisServerProcess) -> String {
        switch self {
        case .hostName: "redis://localhost:\(server.port)"
        case .shortIPv4: "redis://127.1:\(server.port)"
        case .unixSocket: server.unixURL
        }
    }
}
