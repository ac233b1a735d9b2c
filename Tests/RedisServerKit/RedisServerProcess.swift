import CHiredis
import Foundation

/// A real `redis-server` started for one test: loopback only, a free ephemeral port, a Unix socket
/// in its own temporary directory. Stopped by pid (never touches any other Redis).
///
/// Persistent by default (`appendonly yes`, as the operating contract asks, with `appendfsync no`:
/// a write is in the kernel before its reply, so it survives a SIGKILL of the server), so that a
/// server started a moment ago votes (`RedLockConfiguration.restartGuard` withholds the votes of
/// recently started servers without persistence). `persistent: false` starts one that comes
/// back empty after a restart.
public final class RedisServerProcess: @unchecked Sendable {
    /// Set once, by the initialiser (a new one when the first free port was taken meanwhile).
    public private(set) var port: Int
    public let directory: URL
    public let password: String?
    private let extraArguments: [String]
    /// Whether the server runs with AOF (see the type's comment).
    public let persistent: Bool
    /// Added to the server's environment (e.g. `LD_PRELOAD` and `FAKETIME` for a skewed clock).
    private let extraEnvironment: [String: String]
    /// Set for a TLS-only server (no plain TCP port; the harness itself talks over the Unix socket).
    public let tls: TLSServerOptions?
    private let lock = NSLock()
    private var process: SpawnedProcess?
    private var stopped: SpawnedProcess?

    /// `redis-server` on PATH, if any.
    public static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// True when integration tests should run: `redis-server` exists, or `REDLOCK_REQUIRE_REDIS=1`
    /// demands them (they then fail loudly instead of skipping).
    public static var shouldRunIntegrationTests: Bool {
        executable != nil || ProcessInfo.processInfo.environment["REDLOCK_REQUIRE_REDIS"] == "1"
    }

    /// Starts a server and waits until it answers `PING` (off the cooperative pool).
    /// With `tls`, the server listens with TLS only (`--tls-port`, `--port 0`).
    public static func start(password: String? = nil, extraArguments: [String] = [], persistent: Bool = true,
                             environment: [String: String] = [:], tls: TLSServerOptions? = nil) async throws -> RedisServerProcess {
        try await offload {
            try RedisServerProcess(password: password, extraArguments: extraArguments, persistent: persistent, environment: environment, tls: tls)
        }
    }

    private init(password: String?, extraArguments: [String], persistent: Bool, environment: [String: String], tls: TLSServerOptions?) throws {
        guard Self.executable != nil else { throw HarnessError("redis-server is not on PATH (apt-get install redis-server)") }
        self.password = password
        self.extraArguments = extraArguments
        self.persistent = persistent
        self.extraEnvironment = environment
        self.tls = tls
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("redlock-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.port = try Self.freePort()
        // Another process may take the free port before the server binds it; then the server
        // exits (`start` says so) and a new port is tried.
        var attempt = 1
        while true {
            do {
                try start()
                return
            } catch is PortTaken where attempt < 5 {
                attempt += 1
                port = try Self.freePort()
            }
        }
    }

    /// The server exited because its port was in use.
    private struct PortTaken: Error, CustomStringConvertible {
        var description: String { "redis-server exited at start: another process took its port (five times)" }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `redis://[:password@]127.0.0.1:port`
    public var url: String { "\(scheme)://127.0.0.1:\(port)" }
    /// The URL with the password in it, when there is one.
    public var urlWithPassword: String { password.map { "\(scheme)://:\($0)@127.0.0.1:\(port)" } ?? url }
    /// `rediss` for a TLS server, `redis` otherwise.
    public var scheme: String { tls == nil ? "redis" : "rediss" }
    /// `unix:///…/redis.sock`
    public var unixURL: String { "unix://\(socketPath)" }
    /// The server's Unix socket (`…/redis.sock`).
    public var socketPath: String { "\(directory.path)/redis.sock" }
    public var pid: Int32 { lock.withLock { process?.pid ?? 0 } }

    /// Restarts a stopped server on the same port: empty, or with its keys when `persistent`.
    public func restart() async throws {
        try await offload {
            if let stopped = self.lock.withLock({ self.stopped }), stopped.waitForExit(within: .seconds(10)) == nil {
                throw HarnessError("redis-server pid \(stopped.pid) did not exit within 10 s of SIGKILL")
            }
            try self.start()
        }
    }

    private func start() throws {
        var arguments = (tls?.arguments(port: port) ?? ["--port", "\(port)"]) + [
            "--bind", "127.0.0.1", "--save", "", "--appendonly", persistent ? "yes" : "no", "--appendfsync", "no",
            "--dir", directory.path, "--unixsocket", socketPath, "--unixsocketperm", "700",
            "--logfile", "\(directory.path)/redis.log", "--protected-mode", "no", "--enable-debug-command", "local",
        ]
        if let password { arguments += ["--requirepass", password] }
        arguments += extraArguments
        let process = try SpawnedProcess(Self.executable!, arguments, environment: ProcessInfo.processInfo.environment.merging(extraEnvironment) { $1 })
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(10)
        let time = timeval(tv_sec: 1, tv_usec: 0)
        while Date() < deadline {
            // Over this server's own Unix socket, which it creates after binding its port: over
            // TCP, another test's server that took the port would answer instead.
            if (try? Self.run(redisConnectUnixWithTimeout(socketPath, time), time: time, password: password, ["PING"])) == .status("PONG") { return }
            if !process.isRunning {
                let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                stop()
                if log.contains("Address already in use") { throw PortTaken() }
                throw HarnessError("redis-server on port \(port) exited at start: \(log.suffix(500))")
            }
            usleep(5_000)
        }
        stop()
        throw HarnessError("redis-server on port \(port) did not answer PING within 10 s (see \(directory.path)/redis.log)")
    }

    /// Kills the server (SIGKILL) by pid; it is reaped by a thread of its own, so this never
    /// blocks. Idempotent.
    public func stop() {
        let process = lock.withLock { () -> SpawnedProcess? in
            defer { self.stopped = self.process ?? self.stopped; self.process = nil }
            return self.process
        }
        process?.signal(SIGKILL)
        process?.signal(SIGCONT)
    }

    /// SIGSTOP: the kernel still accepts connections and bytes, but nothing is answered.
    public func pause() { lock.withLock { process }?.signal(SIGSTOP) }
    /// SIGCONT after `pause()`.
    public func resume() { lock.withLock { process }?.signal(SIGCONT) }

    /// Runs one command on a fresh connection (1 s timeout) and returns its reply. The blocking
    /// hiredis call runs off Swift's cooperative pool, so it never starves the code under test.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> Reply {
        try await offload { try self.commandBlocking(arguments) }
    }

    /// One command on a fresh blocking connection, authenticating first with `password` (default:
    /// the server's own), waiting up to `timeout` to connect and for each reply.
    package func commandBlocking(_ arguments: [String], password: String?? = nil, timeout: Duration = .seconds(1)) throws -> Reply {
        let microseconds = timeout.nanosecondsRoundedDown / 1000
        let time = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
        let connected = tls == nil
            ? redisConnectWithTimeout("127.0.0.1", Int32(port), time)
            : redisConnectUnixWithTimeout(socketPath, time)
        return try Self.run(connected, time: time, password: password ?? self.password, arguments)
    }

    /// Runs one command on a fresh connection to the Unix socket at `path` (a server this test
    /// started, possibly from another process), waiting up to `timeout` to connect and for the reply.
    public static func command(_ arguments: [String], unixSocket path: String, timeout: Duration = .seconds(1)) async throws -> Reply {
        try await offload {
            let microseconds = timeout.nanosecondsRoundedDown / 1000
            let time = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
            return try run(redisConnectUnixWithTimeout(path, time), time: time, password: nil, arguments)
        }
    }

    /// Runs `arguments` on the fresh connection `connected` (freed here), authenticating first
    /// with `password` when given.
    private static func run(_ connected: UnsafeMutablePointer<redisContext>?, time: timeval, password: String?, _ arguments: [String]) throws -> Reply {
        guard let context = connected else { throw HarnessError("out of memory") }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { throw HarnessError(String(cString: chiredis_errstr(context))) }
        redisSetTimeout(context, time)
        if let password {
            if case .error(let line) = try run(context, ["AUTH", password]) { throw HarnessError("AUTH failed: \(line)") }
        }
        return try run(context, arguments)
    }

    /// Sends `arguments` as binary-safe bulk strings (NUL bytes included) and reads the reply.
    private static func run(_ context: UnsafeMutablePointer<redisContext>, _ arguments: [String]) throws -> Reply {
        let buffers = arguments.map { Array($0.utf8).map { CChar(bitPattern: $0) } + [0] }
        var lengths = arguments.map { $0.utf8.count }
        let raw: UnsafeMutableRawPointer? = withArrayOfPointers(to: buffers) { pointers in
            redisCommandArgv(context, Int32(arguments.count), pointers, &lengths)
        }
        guard let raw else { throw HarnessError(String(cString: chiredis_errstr(context))) }
        defer { freeReplyObject(raw) }
        return Reply(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Calls `body` with a C array of pointers to each buffer's storage, valid during the call.
    private static func withArrayOfPointers<Result>(to buffers: [[CChar]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, buffers.count))
        defer { pointers.deallocate() }
        let copies = buffers.map { buffer -> UnsafeMutablePointer<CChar> in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: buffer.count)
            copy.initialize(from: buffer, count: buffer.count)
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        for (index, copy) in copies.enumerated() { pointers[index] = UnsafePointer(copy) }
        return body(pointers)
    }

    /// The keys on this server matching `pattern`.
    public func keys(_ pattern: String = "*") async throws -> [String] {
        guard case .array(let items) = try await command(["KEYS", pattern]) else { return [] }
        return items.compactMap { if case .string(let key) = $0 { key } else { nil } }
    }

    private static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw HarnessError("socket() failed") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
            }
        }
        guard bound else { throw HarnessError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A reply, as the tests need to see it.
    public enum Reply: Equatable, Sendable {
        case status(String), error(String), integer(Int64), string(String), null, array([Reply])

        init(_ reply: UnsafePointer<redisReply>) {
            let value = reply.pointee
            let text = value.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: value.len), as: UTF8.self) } ?? ""
            switch value.type {
            case REDIS_REPLY_STATUS: self = .status(text)
            case REDIS_REPLY_ERROR: self = .error(text)
            case REDIS_REPLY_INTEGER: self = .integer(value.integer)
            case REDIS_REPLY_STRING: self = .string(text)
            case REDIS_REPLY_ARRAY: self = .array((0..<value.elements).map { Reply(chiredis_element(reply, $0)) })
            default: self = .null
            }
        }
    }
}

/// A harness failure, with what to do about it.
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// N independent servers for one test; all stopped when this is released.
public final class RedisCluster: @unchecked Sendable {
    public let servers: [RedisServerProcess]

    /// A cluster of servers started one by one (e.g. each configured its own way).
    public init(servers: [RedisServerProcess]) {
        self.servers = servers
    }

    /// Starts `count` servers in parallel (`persistent`: see `RedisServerProcess`).
    public static func start(count: Int, password: String? = nil, extraArguments: [String] = [], persistent: Bool = true,
                             environment: [String: String] = [:], tls: TLSServerOptions? = nil) async throws -> RedisCluster {
        let servers = try await withThrowingTaskGroup(of: RedisServerProcess.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await RedisServerProcess.start(password: password, extraArguments: extraArguments, persistent: persistent,
                                                       environment: environment, tls: tls)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        return RedisCluster(servers: servers)
    }

    public var urls: [String] { servers.map(\.url) }

    /// Every server's keys matching `pattern`, flattened.
    public func keys(_ pattern: String) async throws -> [String] {
        var keys: [String] = []
        for server in servers { keys += try await server.keys(pattern) }
        return keys
    }

    /// How many servers hold `key` with value `value` (or any value when nil).
    public func holders(of key: String, value: String? = nil) async throws -> Int {
        var count = 0
        for server in servers {
            if case .string(let stored) = try await server.command(["GET", key]), value == nil || stored == value { count += 1 }
        }
        return count
    }

    /// Subscribers of `channel` (`PUBSUB NUMSUB`), summed over the servers.
    public func subscribers(of channel: String) async throws -> Int {
        var total = 0
        for server in servers {
            if case .array(let reply) = try await server.command(["PUBSUB", "NUMSUB", channel]),
               reply.count == 2, case .integer(let count) = reply[1] { total += Int(count) }
        }
        return total
    }

    public func stopAll() { servers.forEach { $0.stop() } }

    /// How many times each server has run `command` (lowercase, e.g. "set", "evalsha"), from
    /// `INFO commandstats`: 0 for a command it has not run.
    public func calls(of command: String) async throws -> [Int] {
        var counts: [Int] = []
        for server in servers {
            guard case .string(let stats) = try await server.command(["INFO", "commandstats"]) else {
                throw HarnessError("INFO commandstats did not answer with text")
            }
            let prefix = "cmdstat_\(command):calls="
            let line = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix(prefix) }
            counts.append(line.flatMap { Int($0.dropFirst(prefix.count).prefix(while: \.isNumber)) } ?? 0)
        }
        return counts
    }
}

extension RedisCluster {
    /// Open TCP connections from this process to any server of the cluster, read from
    /// `/proc/self/fd` and `/proc/self/net/tcp` (so tests running in parallel don't count).
    public func connectionsFromThisProcess() throws -> Int {
        try connectionsFromThisProcess(to: servers)
    }

    /// Open TCP connections from this process to the given servers.
    public func connectionsFromThisProcess(to servers: [RedisServerProcess]) throws -> Int {
        try connectionDetails(to: servers).count
    }

    /// The connections `connectionsFromThisProcess()` counts, one line each
    /// (`local port 51234 → server port 40001 ESTABLISHED`), to say what an unexpected one is.
    public func connectionDetails() throws -> [String] {
        try connectionDetails(to: servers)
    }

    private func connectionDetails(to servers: [RedisServerProcess]) throws -> [String] {
        let fdDirectory = "/proc/self/fd"
        var socketInodes = Set<String>()
        for entry in try FileManager.default.contentsOfDirectory(atPath: fdDirectory) {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(entry)"),
                  target.hasPrefix("socket:[") else { continue }
            socketInodes.insert(String(target.dropFirst(8).dropLast()))
        }
        let ports = Set(servers.map { String(format: "%04X", $0.port) })
        // procfs reports size 0, so read until end of file rather than by size.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/net/tcp") else { throw HarnessError("cannot read /proc/self/net/tcp") }
        defer { try? file.close() }
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9 else { return nil }
            let port = { (field: Substring) in field.split(separator: ":").last.map(String.init) ?? "" }
            guard ports.contains(port(fields[2])), socketInodes.contains(String(fields[9])) else { return nil }
            let decimal = { (hex: String) in Int(hex, radix: 16).map(String.init) ?? hex }
            return "local port \(decimal(port(fields[1]))) → server port \(decimal(port(fields[2]))) \(Self.tcpStates[String(fields[3])] ?? String(fields[3]))"
        }
    }

    /// `/proc/net/tcp`'s state codes.
    private static let tcpStates = ["01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
                                    "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"]
}

/// Runs blocking work on a Dispatch thread and awaits it, keeping the cooperative pool free.
package func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
