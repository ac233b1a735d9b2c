import ArgumentParser
import CronlockCore
import Logging
import RedLock

/// Everything `cronlock-web` was started with, read and checked once.
package struct WebSettings: Sendable {
    package var host: String
    package var port: Int
    /// The masters, password and logger, as `cronlock` reads them.
    package var redis: RedLockConfiguration
    package var prefix: String
    package var tokens: AccessTokens
    package var logger: Logger

    package init(redis: RedLockConfiguration, prefix: String, tokens: AccessTokens, host: String = "127.0.0.1", port: Int = 0,
                 logger: Logger = Logger(label: "cronlock-web")) {
        self.host = host
        self.port = port
        self.redis = redis
        self.prefix = prefix
        self.tokens = tokens
        self.logger = logger
    }

    /// The settings of `command`; throws a one-line `ValidationError` for a bad server list or an
    /// unreadable token file.
    init(_ command: CronlockWebCommand) throws {
        var logger = CronlockMain.makeLogger(command.connection)
        logger[metadataKey: "service"] = "cronlock-web"
        let redis = try command.connection.configuration(environment: ProcessEnvironment.current(), logger: logger)
        let tokens = try AccessTokens(
            viewer: command.viewerTokenFile.map { try ConnectionOptions.readSecret(from: $0, option: "--viewer-token-file", holding: "the token", logger: logger) },
            operator: command.operatorTokenFile.map { try ConnectionOptions.readSecret(from: $0, option: "--operator-token-file", holding: "the token", logger: logger) })
        self.init(redis: redis, prefix: command.connection.prefix, tokens: tokens, host: command.host, port: command.port, logger: logger)
    }
}
