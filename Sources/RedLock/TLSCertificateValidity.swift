/// When a TLS certificate is valid, for tools that warn before it expires (`cronlock doctor`).
package struct TLSCertificateValidity: Sendable, Equatable {
    /// The start of its validity (`notBefore`), in seconds since the Unix epoch (UTC).
    package var notBeforeSeconds: Int64
    /// The end of its validity (`notAfter`), in seconds since the Unix epoch (UTC).
    package var notAfterSeconds: Int64

    package init(notBeforeSeconds: Int64, notAfterSeconds: Int64) {
        self.notBeforeSeconds = notBeforeSeconds
        self.notAfterSeconds = notAfterSeconds
    }
}
