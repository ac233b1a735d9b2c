import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One client-side OpenSSL session over a connected, non-blocking socket: the handshake (which
/// verifies the server before anything else is sent) and then encrypted reads and writes. Never
/// blocks: `SSL_ERROR_WANT_READ/WRITE` become "try again when `poll` says so", with
/// `waitsForWritable` telling the loop to watch for writability. Confined to one thread.
final class TLSSession {
    private let ssl: OpaquePointer
    private let peer: TLSPeer
    /// The last call can only go on once the socket is writable.
    private(set) var waitsForWritable = false
    /// Whether the server has sent any byte yet (checked to tell a plain Redis port from a TLS one).
    private var heardFromServer = false
    /// The dates of the server's certificate, read once the handshake has succeeded.
    private(set) var peerCertificate: TLSCertificateValidity?

    /// A session on `socket` for `peer`, or the reason it cannot be set up.
    static func open(peer: TLSPeer, socket: Int32) -> ServerResult<TLSSession> {
        guard let ssl = SSL_new(peer.context.pointer) else {
            return .failure(ServerOutcome(.tlsFailed, detail: TLSErrors.takeQueued() ?? "cannot create a TLS session"))
        }
        let session = TLSSession(ssl: ssl, peer: peer)  // frees `ssl` if given up below
        guard SSL_set_fd(ssl, socket) == 1 else {
            return .failure(ServerOutcome(.tlsFailed, detail: TLSErrors.takeQueued() ?? "cannot attach the socket"))
        }
        let isAddress = HostResolver.isNumeric(peer.serverName)
        if !isAddress { _ = copenssl_set_server_name(ssl, peer.serverName) }
        if peer.context.verifiesPeer {
            let named = isAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), peer.serverName) == 1
                : SSL_set1_host(ssl, peer.serverName) == 1
            guard named else { return .failure(ServerOutcome(.tlsFailed, detail: "cannot check for the name \(peer.serverName)")) }
        }
        SSL_set_connect_state(ssl)
        return .success(session)
    }

    private init(ssl: OpaquePointer, peer: TLSPeer) {
        self.ssl = ssl
        self.peer = peer
    }

    deinit {
        SSL_free(ssl)
    }

    /// Drives the handshake as far as the socket allows: `true` once done (the server verified),
    /// `false` while it waits for `poll`; the failure that ends it.
    func handshake() -> ServerResult<Bool> {
        if !heardFromServer, let plainReply = firstByteIfNotTLS() {
            return .failure(ServerOutcome(.notTLS, detail: "the server answered in plain text (\(plainReply)); use redis:// for this port"))
        }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            waitsForWritable = false
            peerCertificate = SSL_get0_peer_certificate(ssl).flatMap { TLSCertificateValidity(certificate: $0) }
            return .success(true)
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: waitsForWritable = false; return .success(false)
        case SSL_ERROR_WANT_WRITE: waitsForWritable = true; return .success(false)
        default: return .failure(handshakeFailure())
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> ByteTransport.Transfer {
        let written = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if written > 0 { waitsForWritable = false; return .moved(Int(written)) }
        return stalledOrFailed(written)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> ByteTransport.Transfer {
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if count > 0 { waitsForWritable = false; return .moved(Int(count)) }
        return stalledOrFailed(count)
    }

    /// A read or write that moved nothing: waiting for the socket, or the end of the connection.
    private func stalledOrFailed(_ result: Int32) -> ByteTransport.Transfer {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ:
            waitsForWritable = false
            return .wouldBlock
        case SSL_ERROR_WANT_WRITE:
            waitsForWritable = true
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .failed(ServerOutcome(.connectionClosed, detail: "closed by the server"))
        case SSL_ERROR_SYSCALL where TLSErrors.queuedReason == 0:
            let reason = errno == 0 ? "closed by the server" : String(cString: strerror(errno))
            return .failed(ServerOutcome(.connectionClosed, detail: reason))
        default:
            // TLS 1.3 servers check the client's certificate after the client's handshake is over:
            // a rejection arrives as an alert on the first read.
            let alert = Self.alert(inReason: TLSErrors.queuedReason)
            let detail = TLSErrors.takeQueued() ?? "TLS error"
            if let alert, Self.clientCertificateAlerts.contains(alert) {
                return .failed(ServerOutcome(.clientCertificateRejected, detail: detail))
            }
            return .failed(ServerOutcome(.connectionClosed, detail: detail))
        }
    }

    /// Why the handshake failed, from the certificate check, the server's alert, or the socket.
    private func handshakeFailure() -> ServerOutcome {
        let verification = SSL_get_verify_result(ssl)
        if peer.context.verifiesPeer, verification != Int(X509_V_OK) {
            ERR_clear_error()
            return Self.rejectedCertificate(verification, serverName: peer.serverName)
        }
        let alert = Self.alert(inReason: TLSErrors.queuedReason)
        let detail = TLSErrors.takeQueued()
        if let alert, Self.clientCertificateAlerts.contains(alert) {
            return ServerOutcome(.clientCertificateRejected, detail: detail)
        }
        if detail == nil {
            let reason = errno == 0 || !heardFromServer ? "the server closed the connection during the TLS handshake" : String(cString: strerror(errno))
            return ServerOutcome(.tlsFailed, detail: reason)
        }
        return ServerOutcome(.tlsFailed, detail: detail)
    }

    /// The server's certificate failed verification: why, as a distinct outcome.
    private static func rejectedCertificate(_ result: Int, serverName: String) -> ServerOutcome {
        let text = X509_verify_cert_error_string(result).map { String(cString: $0) } ?? "verification error \(result)"
        switch Int32(result) {
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            return ServerOutcome(.certificateExpired, detail: text)
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return ServerOutcome(.certificateNameMismatch, detail: "the certificate is not for \(serverName)")
        default:
            return ServerOutcome(.certificateUntrusted, detail: text)
        }
    }

    /// TLS alerts a server sends about the client's certificate: bad, unsupported, revoked,
    /// expired, unknown, unknown CA, access denied, required.
    private static let clientCertificateAlerts: Set<Int32> = [42, 43, 44, 45, 46, 48, 49, 116]

    /// The alert number when an OpenSSL reason code stands for an alert received from the peer.
    private static func alert(inReason reason: Int32) -> Int32? {
        let offset = Int32(SSL_AD_REASON_OFFSET)
        return (offset..<offset + 256).contains(reason) ? reason - offset : nil
    }

    /// Looks at the first byte the server sent, without consuming it: TLS records start with a
    /// content type from 20 to 23, a Redis reply with `-`, `+`, `$`, `*` or `:`. Returns that byte,
    /// shown, when it is not TLS.
    private func firstByteIfNotTLS() -> String? {
        var byte: UInt8 = 0
        guard recv(SSL_get_fd(ssl), &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 1 else { return nil }
        heardFromServer = true
        guard !(20...23).contains(byte) else { return nil }
        return (32..<127).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))…'" : "byte \(byte)"
    }
}
