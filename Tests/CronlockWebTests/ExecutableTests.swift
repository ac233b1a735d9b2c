import Foundation
import RedisTestSupport
import TestLoad
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("cronlock-web, the executable: options, listening, SIGTERM", needsRedis, .load(.timed))
struct ExecutableTests {
    static let executable: String = URL(fileURLWithPath: WebFixture.cronlock).deletingLastPathComponent().appendingPathComponent("cronlock-web").path

    @Test func servesOnTheGivenPortAndExitsZeroOnSIGTERM() async throws {
        let fixture = try await WebFixture(masters: 1)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("web-token-\(UUID().uuidString.prefix(8))").path
        try "\(WebFixture.operatorToken)\n".write(toFile: scratch, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let web = try SpawnedProcess(Self.executable, ["--server", fixture.cluster.urls[0], "--port", "0", "--operator-token-file", scratch],
                                     environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
        let listening = await eventually(within: .seconds(20)) { web.standardOutput.contains("listening on http://127.0.0.1:") }
        #expect(listening, "stdout \(web.standardOutput) stderr \(web.standardError)")
        let port = try #require(web.standardOutput.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let stream = try await Self.openEventStream(port: port)
        defer { close(stream) }
        web.signal(SIGTERM)
        let code = await web.exitCode(within: .seconds(15))
        #expect(code == 0, "exits 0 even with an event stream open: exit \(String(describing: code)), stderr \(web.standardError)")
        #expect(!(web.standardOutput + web.standardError).contains(WebFixture.operatorToken), "the token is never printed")
    }

    @Test func badOptionsAreOneLineAndExit64() async throws {
        let cases: [([String], String)] = [
            (["--port", "70000"], "--port must be 0 to 65535"),
            (["--key", "x"], "takes no --key"),
            (["--viewer-token-file", "/nonexistent/token"], "cannot read --viewer-token-file /nonexistent/token"),
            (["--server", "redis://host:notaport"], "redis://host:notaport"),
        ]
        for (arguments, expected) in cases {
            let web = try SpawnedProcess(Self.executable, arguments, environment: SpawnedProcess.isolatedEnvironment(), output: .collect, error: .collect)
            let code = await web.exitCode(within: .seconds(20))
            #expect(code == 64, "\(arguments): exit \(String(describing: code)) \(web.standardError)")
            #expect(web.standardError.hasPrefix("cronlock-web: ") && web.standardError.contains(expected)
                    && web.standardError.split(separator: "\n").count == 1, "\(arguments): \(web.standardError)")
        }
    }

    /// A connection to cronlock-web on `port` with `GET /api/v1/events` sent and its first line
    /// (`: subscribed`) read: an open event stream. Reads on a thread of its own.
    static func openEventStream(port: Int) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                var request = Array("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
                var received = ""
                if connected == 0, send(fd, &request, request.count, 0) == request.count {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while !received.contains(": subscribed") {
                        let count = recv(fd, &buffer, buffer.count, 0)
                        guard count > 0 else { break }
                        received += String(decoding: buffer[..<count], as: UTF8.self)
                    }
                }
                if received.contains(": subscribed") {
                    continuation.resume(returning: fd)
                } else {
                    close(fd)
                    continuation.resume(throwing: CocoaError(.fileReadUnknown, userInfo: ["reply": received]))
                }
            }
        }
    }
}
