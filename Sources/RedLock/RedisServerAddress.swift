/// One independent Redis master, as people already write it.
///
/// Accepted forms:
/// - `redis://[user:password@]host[:port][/db]` (also `redis://:password@host`); IPv6 hosts in
///   brackets, e.g. `redis://[::1]:6380/2`; user and password may be percent-encoded.
/// - `rediss://…`, the same over TLS (see `RedLockConfiguration.TLS`).
/// - `host:port`, `host`, `[::1]:6379` (port 6379 when omitted).
/// - `unix:///path/redis.sock`, optionally `unix://[user:password@]/path/redis.sock?db=N`.
///
/// The password is never printed: `description` shows `***` in its place.
public struct RedisServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        /// A TCP host name or IP address (IPv6 without brackets) and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    /// The default Redis port, 6379.
    public static let defaultPort = 6379
    /// The longest address string accepted, in bytes.
    public static let maximumLength = 4096

    /// Where the server listens.
    public var endpoint: Endpoint
    /// The ACL user for `AUTH user password`; `nil` authenticates as the default user.
    public var username: String?
    /// The password sent with `AUTH`; `nil` sends no `AUTH` unless the client configuration supplies one.
    public var password: String?
    /// The logical database selected with `SELECT` after connecting; 0 by default.
    public var database: Int
    /// Whether the connection uses TLS (`rediss://`); TCP endpoints only. Default `false`.
    public var usesTLS: Bool
    /// TLS settings for this server alone, replacing `RedLockConfiguration.tls`; `nil` (the default)
    /// uses the client's.
    public var tls: RedLockConfiguration.TLS?

    /// `AUTH [user] password` for this server, with `fallbackPassword` when the address carries
    /// none; `nil` when there is no password to send.
    func authArguments(fallbackPassword: String?) -> [String]? {
        guard let password = password ?? fallbackPassword else { return nil }
        return ["AUTH"] + (username.map { [$0] } ?? []) + [password]
    }

    /// An address from its parts.
    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0,
                usesTLS: Bool = false, tls: RedLockConfiguration.TLS? = nil) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.usesTLS = usesTLS
        self.tls = tls
    }

    /// Parses one of the accepted forms (see the type's documentation).
    ///
    /// - Throws: `RedLockError` with code `.invalidConfiguration` that names the address (password
    ///   hidden) and says what is wrong with it.
    public init(parsing text: String) throws(RedLockError) {
        do {
            self = try ServerAddressParser.parse(text)
        } catch {
            throw RedLockError(.invalidConfiguration, "invalid server address \"\(ServerAddressParser.redacted(text))\": \(error.reason)")
        }
    }

    /// The address in URL form, with the password replaced by `***`.
    public var description: String {
        var userinfo = ""
        if username != nil || password != nil {
            userinfo = (username.map(ServerAddressParser.percentEncoded) ?? "") + (password == nil ? "" : ":***") + "@"
        }
        let databaseSuffix = database == 0 ? "" : "/\(database)"
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return (usesTLS ? "rediss://" : "redis://") + "\(userinfo)\(shownHost):\(port)\(databaseSuffix)"
        case .unix(let path):
            return "unix://\(userinfo)\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }
}
