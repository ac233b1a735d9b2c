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
            Exits 0 when every tick behaved, 1 otherwise.
            """)

    @Option(help: "How many redis-servers to start (3 or 5).")
    var servers: Int = 3

    @Option(help: "How many cronlock processes (simulated hosts) fire on each tick.")
    var hosts: Int = 5

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
        let sockets = (1...servers).map { "\(directory)/redis-\($0).sock" }
        var processes: [RunningCommand] = []
        for (index, socket) in sockets.enumerated() {
            let arguments = [redisServer, "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "",
                             // Persistent (AOF), as the operating contract asks: a run's restart guard then
                             // lets servers that have just started vote.
                             "--appendonly", "yes", "--appendfsync", "no", "--appendfilename", "redis-\(index + 1).aof",
                             "--dir", directory, "--logfile", "\(directory)/redis-\(index + 1).log"]
            processes.append(try RunningCommand.start(arguments, environment: environment))
        }
        let urls = sockets.map { "unix://\($0)" }
        DemoSupport.say("started \(servers) redis-servers (pids \(processes.map { "\($0.processGroup)" }.joined(separator: ", "))) on Unix sockets in \(directory)")
        var passed = await DemoSupport.waitUntilReady(urls)
        if passed {
            passed = await tick(1, expectRunner: true, urls: urls, directory: directory, environment: environment)
            _ = await processes[0].stop(grace: .seconds(1))
            DemoSupport.say("killed redis-server 1 of \(servers): a minority is down")
            passed = await tick(2, expectRunner: true, urls: urls, directory: directory, environment: environment) && passed
            for process in processes.prefix(servers / 2 + 1) { _ = await process.stop(grace: .seconds(1)) }
            DemoSupport.say("killed \(servers / 2 + 1) of \(servers) redis-servers: a majority is down")
            passed = await tick(3, expectRunner: false, urls: urls, directory: directory, environment: environment) && passed
        }
        for process in processes { _ = await process.stop(grace: .seconds(1)) }
        DemoSupport.say("stopped the redis-servers by pid")
        _ = await (try? RunningCommand.start(["rm", "-rf", directory], environment: environment))?.waitForExit()
        DemoSupport.say(passed ? "demo passed: exactly one host ran each tick, and none without a majority" : "demo FAILED")
        if !passed { throw ExitCode(1) }
    }

    /// Fires `hosts` cronlock processes at once on one key and reports who ran.
    private func tick(_ number: Int, expectRunner: Bool, urls: [String], directory: String, environment: [String: String]) async -> Bool {
        let ranFile = "\(directory)/tick-\(number).ran"
        let serverArguments = urls.flatMap { ["--server", $0] }
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

    /// Waits up to 10 s until every server answers.
    static func waitUntilReady(_ urls: [String]) async -> Bool {
        guard let client = try? RedLockClient(configuration: .init(serverAddresses: urls)) else { return false }
        let deadline = ContinuousClock.now + .seconds(10)
        var ready = false
        while !ready, ContinuousClock.now < deadline {
            if let inspection = try? await client.inspect("demo:ready") {
                ready = inspection.servers.allSatisfy { $0.outcome.kind == .granted }
            }
            if !ready { try? await Task.sleep(for: .milliseconds(50)) }
        }
        await client.shutdown()
        if !ready { DemoSupport.say("the redis-servers did not answer within 10 s") }
        return ready
    }

    static func readLines(_ path: String) -> [String] {
        ((try? FileText.contents(of: path).get()) ?? "").split(separator: "\n").map(String.init)
    }
}
