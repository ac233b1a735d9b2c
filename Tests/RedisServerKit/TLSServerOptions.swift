/// How a test `redis-server` listens with TLS: its certificate and key, the CA it checks client
/// certificates against, and whether it requires one.
public struct TLSServerOptions: Sendable {
    public var certificateFile: String
    public var keyFile: String
    public var caFile: String
    public var requiresClientCertificate: Bool

    public init(certificateFile: String, keyFile: String, caFile: String, requiresClientCertificate: Bool = false) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.requiresClientCertificate = requiresClientCertificate
    }

    /// A TLS-only server on `port` (no plain TCP port).
    func arguments(port: Int) -> [String] {
        [
            "--port", "0", "--tls-port", "\(port)", "--tls-cert-file", certificateFile, "--tls-key-file", keyFile,
            "--tls-ca-cert-file", caFile, "--tls-auth-clients", requiresClientCertificate ? "yes" : "no",
        ]
    }
}
