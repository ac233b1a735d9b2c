import Foundation

/// Certificates made by the `openssl` command for the TLS tests, once per process, in a temporary
/// directory: a test CA and, signed by it, a server certificate for `localhost` and `127.0.0.1`, a
/// client certificate (also with an encrypted key), an expired, a not-yet-valid, a wrongly named and
/// a server and a client certificate that expire in a day (`soon`, `soonclient`); and a second CA
/// nobody trusts, with a server and a client certificate.
public final class TestCertificates: Sendable {
    /// Where the files are: `<name>.pem` and `<name>.key`.
    public let directory: String
    /// The passphrase of `client-encrypted.key`.
    public static let clientKeyPassphrase = "test-passphrase"

    /// Made once, on first use (a static is initialised exactly once, whichever thread asks first).
    private static let made = Result { () throws(HarnessError) in try TestCertificates() }

    /// The process's certificates, made on first use.
    public static func shared() throws -> TestCertificates {
        try made.get()
    }

    private init() throws(HarnessError) {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redlock-tls-\(UUID().uuidString.prefix(8))").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError("cannot create \(directory): \(error)")
        }
        let script = "cd '\(directory)' && " + Self.script
        let shell: SpawnedProcess
        do {
            shell = try SpawnedProcess("/bin/sh", ["-c", script], environment: ProcessInfo.processInfo.environment, error: .collect)
        } catch {
            throw HarnessError("cannot run /bin/sh for openssl: \(error)")
        }
        guard shell.waitForExit(within: .seconds(60)) == 0 else {
            throw HarnessError("making test certificates with openssl failed (apt-get install openssl): \(shell.standardError)")
        }
    }

    /// `<directory>/<name>.pem`
    public func certificate(_ name: String) -> String { "\(directory)/\(name).pem" }
    /// `<directory>/<name>.key`
    public func key(_ name: String) -> String { "\(directory)/\(name).key" }

    /// A TLS-only server presenting certificate `name` (default: the valid `server`), checking
    /// client certificates against the test CA.
    public func server(_ name: String = "server", requiresClientCertificate: Bool = false) -> TLSServerOptions {
        TLSServerOptions(certificateFile: certificate(name), keyFile: key(name), caFile: certificate("ca"),
                         requiresClientCertificate: requiresClientCertificate)
    }

    private static let script = #"""
    set -e
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    authority() {
      key "$1.key"
      openssl req -x509 -new -key "$1.key" -days 3650 -subj "/CN=$2" -out "$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    }
    authority ca "RedLock Test CA"
    authority other-ca "Unknown Test CA"
    mkdir -p db && : > db/index.txt && echo 01 > db/serial
    cat > ca.cnf <<'CNF'
    [ca]
    default_ca = test
    [test]
    database = db/index.txt
    serial = db/serial
    new_certs_dir = db
    default_md = sha256
    policy = any
    unique_subject = no
    copy_extensions = copy
    [any]
    commonName = supplied
    CNF
    # sign NAME ISSUER SUBJECT-ALT-NAMES [DATES: openssl ca options, default -days 3650]
    sign() {
      key "$1.key"
      openssl req -new -key "$1.key" -subj "/CN=$1" -addext "subjectAltName=$3" -out "$1.csr"
      openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2.key" ${4:--days 3650} -in "$1.csr" -out "$1.pem" -notext 2>/dev/null
    }
    sign server ca "DNS:localhost,IP:127.0.0.1"
    sign client ca "DNS:redlock-client"
    sign expired ca "DNS:localhost,IP:127.0.0.1" "-startdate 20200101000000Z -enddate 20210101000000Z"
    sign soon ca "DNS:localhost,IP:127.0.0.1" "-days 1"
    sign soonclient ca "DNS:redlock-client" "-days 1"
    sign future ca "DNS:localhost,IP:127.0.0.1" "-startdate 20990101000000Z -enddate 20991231000000Z"
    sign wrongname ca "DNS:elsewhere.example"
    sign stranger other-ca "DNS:localhost,IP:127.0.0.1"
    sign strangerclient other-ca "DNS:redlock-client"
    openssl pkcs8 -topk8 -in client.key -out client-encrypted.key -passout pass:test-passphrase -v2 aes-256-cbc
    chmod 600 *.key
    """#
}
