import ArgumentParser
import RedLock

#if canImport(Glibc)
import Glibc
#endif

/// `cronlock demo`: local redis-servers, several cronlock "hosts" on the same tick, proof that
/// exactly one ran. Starts everything itself and stops the servers by pid at the end.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start local redis-servers and show that of several cronlock hosts firing at once, exactly one runs.",
        discussion: """
            Needs redis-server on PATH. The servers listen only on Unix sockets in a temporary \
            directory (no TCP port is opened) and are stopped by pid at the end. Tick 1 runs with all \
            servers up, tick 2 with one server killed, tick 3 with a majority killed (no host may run). \
            With --tls, the servers listen with TLS only on free 127.0.0.1 ports instead, with a CA and \
            a server certificate made by openssl in the temporary directory, and every host connects \
            over rediss:// trusting that CA (--tls-ca-file). \
            Exits 0 when every tick behaved, 1 otherwise.
            """)

    @Option(help: "How many redis-servers to start (3 or 5).")
    var servers: Int = 3

    @Option(help: "How many cronlock processes (simulated hosts) fire on each tick.")
    var hosts: Int = 5

    @Flag(help: "Run the servers with TLS only and the hosts over rediss:// (needs openssl on PATH).")
    var tls = false

    func validate() throws {
        guard servers == 3 || servers == 5 else { throw ValidationError("--servers must be 3 or 5") }
        guard (2...50).contains(hosts) else { throw ValidationError("--hosts must be 2 to 50") }
    }

    func run() async throws {
        guard let redisServer = DemoSupport.find("redis-server") else {
            throw ExitCode(CronlockRun.fail(CronlockExit.noQuorum, "redis-server is not installed (apt-get install redis-server)"))
        }
        let directory = try DemoSupport.makeTemporaryDirectory()
        var environment = ProcessEnvironment.forCommand()
        environment["CRONLOCK_SERVERS"] = nil
        var caFile: String?
        if tls {
            caFile = await DemoSupport.makeCertificates(in: directory, environment: environment)
            guard caFile != nil else {
                await DemoSupport.remove(directory, environment: environment)
                throw ExitCode(CronlockRun.fail(1, "demo: could not make the TLS certificates with openssl (apt-get install openssl)"))
            }
        }
        var processes: [RunningCommand] = []
        var urls: [String] = []
        for index in 1...servers {
            let listener = DemoListener(index: index, directory: directory, tls: tls)
            let arguments = [redisServer] + listener.arguments + ["--save", "",
                             // Persistent (AOF), as the operating contract asks: a run's restart guard then
                             // lets servers that have just started vote.
                             "--appendonly", "yes", "--appendfsync", "no", "--appendfilename", "redis-\(index).aof",
                             "--dir", directory, "--logfile", "\(directory)/redis-\(index).log"]
            processes.append(try RunningCommand.start(arguments, environment: environment))
            urls.append(listener.url)
        }
        let pids = processes.map { "\($0.processGroup)" }.joined(separator: ", ")
        DemoSupport.say("started \(servers) redis-servers (pids \(pids)) " + (tls
            ? "with TLS only on \(urls.joined(separator: ", ")), certificates made by openssl in \(directory)"
            : "on Unix sockets in \(directory)"))
        var passed = await DemoSupport.waitUntilReady(urls, caFile: caFile)
        if passed {
            passed = await tick(1, expectRunner: true, urls: urls, caFile: caFile, directory: directory, environment: environment)
            _ = await processes[0].stop(grace: .seconds(1))
            DemoSupport.say("killed redis-server 1 of \(servers): a minority is down")
            passed = await tick(2, expectRunner: true, urls: urls, caFile: caFile, directory: directory, environment: environment) && passed
            for process in processes.prefix(RedLockClient.quorum(of: servers)) { _ = await process.stop(grace: .seconds(1)) }
            DemoSupport.say("killed \(RedLockClient.quorum(of: servers)) of \(servers) redis-servers: a majority is down")
            passed = await tick(3, expectRunner: false, urls: urls, caFile: caFile, directory: directory, environment: environment) && passed
        }
        for process in processes { _ = await process.stop(grace: .seconds(1)) }
        DemoSupport.say("stopped the redis-servers by pid")
        await DemoSupport.remove(directory, environment: environment)
        DemoSupport.say(passed ? "demo passed: exactly one host ran each tick, and none without a majority" : "demo FAILED")
        if !passed { throw ExitCode(1) }
    }

    /// Fires `hosts` cronlock processes at once on one key and reports who ran.
    private func tick(_ number: Int, expectRunner: Bool, urls: [String], caFile: String?, directory: String,
                      environment: [String: String]) async -> Bool {
        let ranFile = "\(directory)/tick-\(number).ran"
        let serverArguments = urls.flatMap { ["--server", $0] } + (caFile.map { ["--tls-ca-file", $0] } ?? [])
        var started: [RunningCommand] = []
        for host in 1...hosts {
            var hostEnvironment = environment
            hostEnvironment["CRONLOCK_DEMO_HOST"] = "\(host)"
            let arguments = [DemoSupport.ownExecutable(), "--key", "demo-tick-\(number)", "--ttl", "5s", "--min-hold", "2s"]
                + serverArguments + ["--", "sh", "-c", "echo host-$CRONLOCK_DEMO_HOST >> \(ranFile); sleep 0.2"]
            guard let process = try? RunningCommand.start(arguments, environment: hostEnvironment) else {
                DemoSupport.say("tick \(number): could not start host \(host)")
                return false
            }
            started.append(process)
        }
        var codes: [Int32] = []
        for process in started { codes.append(await process.waitForExit().shellExitCode) }
        let ran = DemoSupport.readLines(ranFile)
        let skipped = codes.enumerated().filter { $0.element == CronlockExit.heldElsewhere }.map { "\($0.offset + 1)" }
        let unavailable = codes.enumerated().filter { $0.element == CronlockExit.noQuorum }.map { "\($0.offset + 1)" }
        DemoSupport.say("tick \(number): \(hosts) hosts ran cronlock at the same instant -> "
              + "ran the job: \(ran.isEmpty ? "none" : ran.joined(separator: ", "))"
              + (skipped.isEmpty ? "" : "; skipped (exit 75): hosts \(skipped.joined(separator: ", "))")
              + (unavailable.isEmpty ? "" : "; no quorum (exit 69): hosts \(unavailable.joined(separator: ", "))"))
        return expectRunner ? ran.count == 1 && codes.filter({ $0 == 0 }).count == 1 : ran.isEmpty
    }
}

/// Small helpers for the demo (no Foundation: cronlock's start-up must stay lean).
enum DemoSupport {
    /// One line on stdout, written at once so it stays in order with the hosts' own output.
    static func say(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        _ = write(STDOUT_FILENO, &bytes, bytes.count)
    }

    /// The first executable `name` on PATH.
    static func find(_ name: String) -> String? {
        let path = ProcessEnvironment.current()["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// This executable's path, so the demo's hosts run the same cronlock.
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/cronlock-demo-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else {
            throw ExitCode(CronlockRun.fail(CronlockExit.usage, "cannot create a temporary directory: \(String(cString: strerror(errno)))"))
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Waits up to 10 s until every server answers (`rediss://` ones trusting `caFile`).
    static func waitUntilReady(_ urls: [String], caFile: String?) async -> Bool {
        guard var configuration = try? RedLockConfiguration(serverAddresses: urls) else { return false }
        configuration.tls.caFile = caFile
        let ready = (try? await withRedLockClient(configuration: configuration) { client in
            let deadline = ContinuousClock.now + .seconds(10)
            var ready = false
            while !ready, ContinuousClock.now < deadline {
                if let inspection = try? await client.inspect("demo:ready") {
                    ready = inspection.servers.allSatisfy { $0.outcome.kind == .granted }
                }
                if !ready { try? await Task.sleep(for: .milliseconds(50)) }
            }
            return ready
        }) ?? false
        if !ready { DemoSupport.say("the redis-servers did not answer within 10 s") }
        return ready
    }

    /// Makes `ca.pem` and, signed by it, `server.pem`/`server.key` for localhost and 127.0.0.1
    /// (EC P-256) in `directory` with the openssl command; the CA's path, or nil if openssl failed.
    static func makeCertificates(in directory: String, environment: [String: String]) async -> String? {
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        let script = """
            set -e; cd '\(directory)'
            echo 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.cnf
            openssl req -x509 \(ec) -keyout ca.key -out ca.pem -days 1 -subj '/CN=cronlock demo CA' \
              -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
            openssl req -new \(ec) -keyout server.key -out server.csr -subj /CN=localhost
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.cnf -out server.pem
            """
        guard let shell = try? RunningCommand.start(["sh", "-c", "(\(script)) >/dev/null 2>&1"], environment: environment),
              await shell.waitForExit() == .exited(0) else { return nil }
        return "\(directory)/ca.pem"
    }

    /// Removes `directory` and everything in it (`rm -rf`).
    static func remove(_ directory: String, environment: [String: String]) async {
        _ = await (try? RunningCommand.start(["rm", "-rf", directory], environment: environment))?.waitForExit()
    }

    static func readLines(_ path: String) -> [String] {
        ((try? FileText.contents(of: path).get()) ?? "").split(separator: "\n").map(String.init)
    }
}
