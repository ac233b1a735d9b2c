import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One OpenSSL client context (`SSL_CTX`): the trusted CAs, the client certificate and key, TLS 1.2
/// or later, peer verification on unless explicitly skipped. Built once per distinct
/// `RedLockConfiguration.TLS` when a client starts; immutable afterwards, so connections on any
/// thread may create sessions from it.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    /// False only with `insecureSkipVerification`.
    let verifiesPeer: Bool

    /// Loads every file `settings` names.
    ///
    /// - Throws: `RedLockError` `.invalidConfiguration` naming the file that is missing, unreadable
    ///   or not what it should be (CA bundle, certificate, key, or a key that does not match).
    init(_ settings: RedLockConfiguration.TLS) throws(RedLockError) {
        guard let pointer = SSL_CTX_new(TLS_client_method()) else { throw Self.failure("cannot create a TLS context") }
        self.pointer = pointer
        self.verifiesPeer = !settings.insecureSkipVerification
        guard copenssl_require_tls12(pointer) == 1 else { throw Self.failure("cannot require TLS 1.2") }
        copenssl_set_write_modes(pointer)
        SSL_CTX_set_verify(pointer, verifiesPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        try loadTrust(settings)
        try loadIdentity(settings)
    }

    deinit {
        SSL_CTX_free(pointer)
    }

    /// The dates of the client certificate, when one is configured.
    var clientCertificate: TLSCertificateValidity? {
        SSL_CTX_get0_certificate(pointer).flatMap { TLSCertificateValidity(certificate: $0) }
    }

    /// One context per distinct TLS setting among `servers` (`nil` for plain servers), each server's
    /// own `tls` replacing `common`.
    static func contexts(for servers: [RedisServerAddress], common: RedLockConfiguration.TLS) throws(RedLockError) -> [TLSPeer?] {
        var built: [RedLockConfiguration.TLS: TLSContext] = [:]
        var peers: [TLSPeer?] = []
        for server in servers {
            guard server.usesTLS, case .tcp(let host, _) = server.endpoint else { peers.append(nil); continue }
            let settings = server.tls ?? common
            let context: TLSContext
            if let existing = built[settings] {
                context = existing
            } else {
                context = try TLSContext(settings)
                built[settings] = context
            }
            peers.append(TLSPeer(context: context, serverName: settings.serverName ?? host))
        }
        return peers
    }

    private func loadTrust(_ settings: RedLockConfiguration.TLS) throws(RedLockError) {
        guard settings.caFile != nil || settings.caDirectory != nil else {
            guard SSL_CTX_set_default_verify_paths(pointer) == 1 else { throw Self.failure("cannot load the system trust store") }
            return
        }
        if let file = settings.caFile { try Self.checkReadable(file, role: "CA file") }
        if let directory = settings.caDirectory { try Self.checkDirectory(directory) }
        guard SSL_CTX_load_verify_locations(pointer, settings.caFile, settings.caDirectory) == 1 else {
            let named = [settings.caFile, settings.caDirectory].compactMap { $0 }.joined(separator: " and ")
            throw Self.failure("cannot load the TLS CA certificates from \(named)")
        }
    }

    private func loadIdentity(_ settings: RedLockConfiguration.TLS) throws(RedLockError) {
        switch (settings.certificateFile, settings.keyFile) {
        case (nil, nil):
            return
        case (let certificate?, let key?):
            try Self.checkReadable(certificate, role: "certificate file")
            try Self.checkReadable(key, role: "key file")
            guard SSL_CTX_use_certificate_chain_file(pointer, certificate) == 1 else {
                throw Self.failure("cannot load the TLS certificate file \(certificate)")
            }
            let loaded = withPassphrase(settings.keyPassphrase) {
                SSL_CTX_use_PrivateKey_file(pointer, key, SSL_FILETYPE_PEM) == 1
            }
            guard loaded else {
                throw Self.failure("cannot load the TLS key file \(key)" + (settings.keyPassphrase == nil ? " (is it encrypted? give its passphrase)" : " (wrong passphrase?)"))
            }
            guard SSL_CTX_check_private_key(pointer) == 1 else {
                throw Self.failure("the TLS key file \(key) does not match the certificate file \(certificate)")
            }
        case (nil, _):
            throw RedLockError(.invalidConfiguration, "a TLS key file needs its certificate file")
        case (_, nil):
            throw RedLockError(.invalidConfiguration, "a TLS certificate file needs its key file")
        }
    }

    /// Runs `body` with OpenSSL taking key passphrases from `passphrase` only (never a prompt).
    private func withPassphrase<Result>(_ passphrase: String?, _ body: () -> Result) -> Result {
        defer { copenssl_use_passphrase(pointer, nil) }
        guard let passphrase else {
            copenssl_use_passphrase(pointer, nil)
            return body()
        }
        return passphrase.withCString { text in
            copenssl_use_passphrase(pointer, text)
            return body()
        }
    }

    private static func checkReadable(_ path: String, role: String) throws(RedLockError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw RedLockError(.invalidConfiguration, "cannot read the TLS \(role) \(path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    private static func checkDirectory(_ path: String) throws(RedLockError) {
        guard let directory = opendir(path) else {
            throw RedLockError(.invalidConfiguration, "cannot read the TLS CA directory \(path): \(String(cString: strerror(errno)))")
        }
        closedir(directory)
    }

    /// An `.invalidConfiguration` error with OpenSSL's reason appended (and its error queue emptied).
    private static func failure(_ message: String) -> RedLockError {
        RedLockError(.invalidConfiguration, message + (TLSErrors.takeQueued().map { ": \($0)" } ?? ""))
    }
}
