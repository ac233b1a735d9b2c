/// The certificates of one `rediss://` server's connection, for tools that check their dates.
package struct ServerTLSCertificates: Sendable, Equatable {
    /// The server's certificate, from the current connection's handshake; nil while no handshake
    /// has succeeded (a server whose certificate fails verification never gets this far).
    package var server: TLSCertificateValidity?
    /// This client's own certificate (`RedLockConfiguration.TLS.certificateFile`); nil when none
    /// is configured.
    package var client: TLSCertificateValidity?

    package init(server: TLSCertificateValidity?, client: TLSCertificateValidity?) {
        self.server = server
        self.client = client
    }
}
