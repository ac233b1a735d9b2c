import ArgumentParser
import RedLock

/// TLS for the `rediss://` servers: whom to trust, the client certificate, the name to check.
/// Shared by every subcommand through `ConnectionOptions`.
package struct TLSOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("tls-ca-file"), help: ArgumentHelp(
        "PEM file of CA certificates that rediss:// servers must chain to (default: the system trust store).",
        discussion: "Or set $CRONLOCK_TLS_CA_FILE."))
    package var caFile: String?

    @Option(name: .customLong("tls-ca-dir"), help: "Directory of hashed CA certificates (openssl rehash) to trust instead of the system store.")
    package var caDirectory: String?

    @Option(name: .customLong("tls-cert-file"), help: ArgumentHelp(
        "PEM client certificate, for servers with tls-auth-clients (needs --tls-key-file).",
        discussion: "Or set $CRONLOCK_TLS_CERT_FILE."))
    package var certificateFile: String?

    @Option(name: .customLong("tls-key-file"), help: ArgumentHelp(
        "PEM private key of --tls-cert-file.",
        discussion: "Or set $CRONLOCK_TLS_KEY_FILE. An encrypted key needs --tls-key-passphrase-file."))
    package var keyFile: String?

    @Option(name: .customLong("tls-key-passphrase-file"), help: "File whose first line is the passphrase of an encrypted --tls-key-file.")
    package var keyPassphraseFile: String?

    @Option(name: .customLong("tls-server-name"), help: "Name sent as SNI and checked against every rediss:// server's certificate (default: each server's host).")
    package var serverName: String?

    @Flag(name: .customLong("tls-insecure-skip-verify"), help: "INSECURE: accept any server certificate (encrypts, but anyone on the path can impersonate the servers). For test setups only.")
    package var insecureSkipVerify = false

    package init() {}

    /// The library's TLS settings: options first, then the environment. Throws a usage error
    /// naming an unreadable passphrase file (the certificate files are checked when the client starts).
    func settings(environment: [String: String]) throws -> RedLockConfiguration.TLS {
        func fromEnvironment(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        return RedLockConfiguration.TLS(
            caFile: caFile ?? fromEnvironment("CRONLOCK_TLS_CA_FILE"),
            caDirectory: caDirectory,
            certificateFile: certificateFile ?? fromEnvironment("CRONLOCK_TLS_CERT_FILE"),
            keyFile: keyFile ?? fromEnvironment("CRONLOCK_TLS_KEY_FILE"),
            keyPassphrase: try keyPassphraseFile.map(Self.readPassphrase),
            serverName: serverName,
            insecureSkipVerification: insecureSkipVerify)
    }

    private static func readPassphrase(from path: String) throws -> String {
        try FileText.firstLine(ofSecretFile: path, option: "--tls-key-passphrase-file", holding: "the passphrase")
    }
}
