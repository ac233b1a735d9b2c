import CHiredis
import RedisIO

extension RedisSubscriber {
    /// Follows `pattern` on every server of `servers`, using `fallbackPassword` for servers whose
    /// address carries none. `onEvent` is called on the subscription threads, one per server.
    package convenience init(servers: [RedisServerAddress], fallbackPassword: String?, pattern: String,
                             onEvent: @escaping @Sendable (Event) -> Void) {
        let targets = servers.map { address in
            Target(authentication: address.authArguments(fallbackPassword: fallbackPassword)) { timeout in
                switch address.endpoint {
                case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(port), timeout)
                case .unix(let path): redisConnectUnixWithTimeout(path, timeout)
                }
            }
        }
        self.init(targets: targets, pattern: pattern, onEvent: onEvent)
    }
}
