extension RedLockConfiguration {
    /// How `rediss://` servers are reached: whom to trust, who we are, what name to check.
    /// Plain `redis://` and `unix://` servers ignore it.
    ///
    /// The server's certificate chain must lead to a trusted CA (`caFile`/`caDirectory`, or the
    /// system trust store when both are `nil`), be valid now, and name the server (`serverName`, or
    /// the address's host: a DNS name or IP address in its subject alternative names). TLS 1.2 is the
    /// oldest version accepted. Nothing (no `AUTH`, no command) is sent before that has been checked.
    public struct TLS: Sendable, Hashable {
        /// A PEM file of CA certificates to trust instead of the system store. Default `nil`.
        public var caFile: String?
        /// A directory of hashed CA certificates (`openssl rehash`) to trust instead of the
        /// system store. Default `nil`.
        public var caDirectory: String?
        /// A PEM client certificate (chain), for servers that require one (`tls-auth-clients yes`).
        /// Needs `keyFile`. Default `nil`.
        public var certificateFile: String?
        /// The PEM private key of `certificateFile`. Default `nil`.
        public var keyFile: String?
        /// The passphrase of an encrypted `keyFile`; never printed. Default `nil`: the key must not be
        /// encrypted (there is never a terminal prompt).
        public var keyPassphrase: String?
        /// The name sent as SNI and checked against the server's certificate. Default `nil`: the
        /// host of the server's address.
        public var serverName: String?
        /// Accepts any certificate from anyone: traffic is encrypted but the server is not
        /// authenticated, so anyone on the path can impersonate it. For test setups only. Default `false`.
        public var insecureSkipVerification: Bool

        /// Settings that trust the system store, send no client certificate and verify the server.
        public init(caFile: String? = nil, caDirectory: String? = nil, certificateFile: String? = nil,
                    keyFile: String? = nil, keyPassphrase: String? = nil, serverName: String? = nil,
                    insecureSkipVerification: Bool = false) {
            self.caFile = caFile
            self.caDirectory = caDirectory
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.keyPassphrase = keyPassphrase
            self.serverName = serverName
            self.insecureSkipVerification = insecureSkipVerification
        }
    }
}
