import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TLSCertificateValidity {
    /// The dates of `certificate` (an OpenSSL `X509 *`), or nil when they cannot be read.
    init?(certificate: OpaquePointer) {
        guard let notBefore = Self.seconds(X509_get0_notBefore(certificate)),
              let notAfter = Self.seconds(X509_get0_notAfter(certificate)) else { return nil }
        self.init(notBeforeSeconds: notBefore, notAfterSeconds: notAfter)
    }

    /// An ASN.1 time as seconds since the Unix epoch.
    private static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Int64(timegm(&parts))
    }
}
