import Foundation
import RedisTestSupport
import Testing
import TestLoad

/// The built binary over TLS: the run, `status` and `watch` on `rediss://` masters, mutual TLS
/// from the environment, a TLS failure (exit 69, one line naming the server and the cause) and an
/// unusable TLS file (exit 64 naming it).
@Suite("cronlock over TLS (rediss://)", needsRedis, .load(.timed))
struct CronlockTLSTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    @Test func aCommandRunsUnderALockOnTLSMastersAndStatusReadsIt() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server())
        let servers = cluster.urls.flatMap { ["--server", $0] }
        let key = uniqueKey()
        let scratch = try Scratch()
        let marker = scratch.file("ran")
        let run = try await CronlockProcess.run(servers + ["--tls-ca-file", certificates.certificate("ca"), "--key", key, "--min-hold", "5s",
                                                           "--", "touch", marker])
        #expect(run.code == 0, "\(run)")
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(try await cluster.holders(of: "cronlock:\(key)") == 3, "kept for --min-hold")
        let status = try await CronlockProcess.run(["status"] + servers + ["--key", key], environment: ["CRONLOCK_TLS_CA_FILE": certificates.certificate("ca")])
        #expect(![64, 69].contains(status.code), "\(status)")
    }

    @Test func watchFollowsEventsOverMutualTLS() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server(requiresClientCertificate: true))
        let servers = cluster.urls.flatMap { ["--server", $0] }
        let tls = ["--tls-ca-file", certificates.certificate("ca"), "--tls-cert-file", certificates.certificate("client"),
                   "--tls-key-file", certificates.key("client")]
        let key = uniqueKey()
        let watch = try CronlockProcess(["watch"] + servers + tls + ["--json", "--count", "2"])
        let subscribed = await eventually(within: .seconds(10)) {
            var all = true
            for server in cluster.servers where (try? await server.command(["PUBSUB", "NUMPAT"])) != .integer(1) { all = false }
            return all
        }
        #expect(subscribed)
        #expect(try await CronlockProcess.run(servers + tls + ["--key", key, "--min-hold", "0s", "--", "true"]).code == 0)
        let result = try await watch.finish(within: .seconds(10))
        #expect(result.code == 0 && result.stdout.contains("\"started\"") && result.stdout.contains("\"finished\""), "\(result)")
    }

    @Test func mutualTLSTakesItsFilesFromTheEnvironment() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server(requiresClientCertificate: true))
        let servers = cluster.urls.flatMap { ["--server", $0] }
        let environment = [
            "CRONLOCK_TLS_CA_FILE": certificates.certificate("ca"),
            "CRONLOCK_TLS_CERT_FILE": certificates.certificate("client"),
            "CRONLOCK_TLS_KEY_FILE": certificates.key("client"),
        ]
        let run = try await CronlockProcess.run(servers + ["--key", uniqueKey(), "--min-hold", "0s", "--", "true"], environment: environment)
        #expect(run.code == 0, "\(run)")
        let without = try await CronlockProcess.run(servers + ["--key", uniqueKey(), "--", "true"],
                                                    environment: ["CRONLOCK_TLS_CA_FILE": certificates.certificate("ca")])
        #expect(without.code == 69, "\(without)")
        #expect(without.stderr.contains("TLS client certificate rejected"), "\(without)")
    }

    @Test func mutualTLSTakesItsFilesFromTheConfigurationFile() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server(requiresClientCertificate: true))
        let scratch = try Scratch()
        let config = try scratch.write("cronlock.toml", """
            servers = [\(cluster.urls.map { "\"\($0)\"" }.joined(separator: ", "))]
            tls-ca-file = "\(certificates.certificate("ca"))"
            tls-cert-file = "\(certificates.certificate("client"))"
            tls-key-file = "\(certificates.key("client"))"
            tls-server-name = "localhost"
            """, permissions: 0o644)
        let run = try await CronlockProcess.run(["--config", config, "--key", uniqueKey(), "--min-hold", "0s", "--", "true"],
                                                environment: ["CRONLOCK_SERVERS": ""])
        #expect(run.code == 0, "\(run)")
    }

    @Test func aCADirectoryAnEncryptedKeyAndSkippingVerificationComeFromTheConfigurationFile() async throws {
        let cluster = try await RedisCluster.start(count: 1, tls: certificates.server(requiresClientCertificate: true))
        let scratch = try Scratch()
        let authorities = scratch.file("authorities")
        try FileManager.default.createDirectory(atPath: authorities, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: certificates.certificate("ca"), toPath: authorities + "/ca.pem")
        let rehash = try SpawnedProcess("/usr/bin/openssl", ["rehash", authorities], environment: ProcessInfo.processInfo.environment)
        #expect(rehash.waitForExit(within: .seconds(30)) == 0, "openssl rehash")
        let passphrase = try scratch.write("passphrase", TestCertificates.clientKeyPassphrase + "\n", permissions: 0o600)
        let config = try scratch.write("cronlock.toml", """
            servers = ["\(cluster.urls[0])"]
            tls-ca-dir = "\(authorities)"
            tls-cert-file = "\(certificates.certificate("client"))"
            tls-key-file = "\(certificates.key("client-encrypted"))"
            tls-key-passphrase-file = "\(passphrase)"
            """, permissions: 0o644)
        let environment = ["CRONLOCK_SERVERS": "", "CRONLOCK_CONFIG": config]
        let run = try await CronlockProcess.run(["--key", uniqueKey(), "--min-hold", "0s", "--", "true"], environment: environment)
        #expect(run.code == 0, "\(run)")

        let stranger = try await RedisCluster.start(count: 1, tls: certificates.server("stranger"))
        let trusting = try scratch.write("trusting.toml", "servers = [\"\(stranger.urls[0])\"]\ntls-insecure-skip-verify = true\n", permissions: 0o644)
        let insecure = try await CronlockProcess.run(["--key", uniqueKey(), "--min-hold", "0s", "--", "true"],
                                                     environment: ["CRONLOCK_SERVERS": "", "CRONLOCK_CONFIG": trusting])
        #expect(insecure.code == 0, "an untrusted server, accepted as the file says: \(insecure)")
    }

    @Test func anUntrustedServerExits69WithOneLineNamingItAndTheCause() async throws {
        let cluster = try await RedisCluster.start(count: 3, tls: certificates.server("stranger"))
        let servers = cluster.urls.flatMap { ["--server", $0] }
        let result = try await CronlockProcess.run(servers + ["--tls-ca-file", certificates.certificate("ca"), "--key", uniqueKey(), "--", "true"])
        #expect(result.code == 69, "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result)")
        #expect(result.stderr.contains("\(cluster.urls[0]): ") && result.stderr.contains("TLS certificate not trusted (unable to get local issuer certificate)"), "\(result)")
        let insecure = try await CronlockProcess.run(servers + ["--tls-insecure-skip-verify", "--key", uniqueKey(), "--min-hold", "0s", "--", "true"])
        #expect(insecure.code == 0, "\(insecure)")
    }

    @Test func anUnusableTLSFileExits64NamingIt() async throws {
        let key = certificates.key("server")
        let result = try await CronlockProcess.run(["--server", "rediss://127.0.0.1:1", "--tls-cert-file", certificates.certificate("client"),
                                                    "--tls-key-file", key, "--key", uniqueKey(), "--", "true"])
        #expect(result.code == 64, "\(result)")
        #expect(result.stderr.contains(key), "\(result)")
    }
}
