import ArgumentParser
import RedLock

#if canImport(Glibc)
import Glibc
#endif
import RedisIO

/// `cronlock watch [--group G] [--json]`: follows job-control events live, one line each.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow job events live (started, finished, lost, paused, resumed, stop requested, late), one line each.",
        discussion: "--group G follows only that group (pattern <prefix>_jc:G:*, which the per-team ACL grants); without it, every group (pattern <prefix>_jc:*:events, which a user needs granted as such). Subscribes on every master; an event published on several shows once. Runs until interrupted, or until --count events. A master that cannot be reached is reported on stderr and retried every second; watch keeps following the others. A master whose ACL denies the subscription (NOPERM) ends watch with exit 77.")

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var groupOption: GroupOption

    @Option(parsing: .unconditional, help: "Exit 0 after N events.")
    var count: Int?

    @Flag(help: "Print each event as its JSON object.")
    var json = false

    func validate() throws {
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
    }

    func run() async throws {
        let configuration = try connection.configuration(environment: ProcessEnvironment.current(), logger: CronlockMain.makeLogger(connection))
        let prefix = connection.prefix
        let pattern = groupOption.group.map { JobKeys.groupChannels(prefix: prefix, group: $0) } ?? JobKeys.allEvents(prefix: prefix)
        let channel = groupOption.group.map { JobKeys.events(prefix: prefix, group: $0) }
        let printer = EventPrinter(json: json, prefix: prefix, limit: count, servers: configuration.servers, pattern: pattern)
        let subscriber: RedisSubscriber
        do {
            subscriber = try RedisSubscriber(servers: configuration.servers, fallbackPassword: configuration.password, tls: configuration.tls,
                                             pattern: pattern) { event in
                // The group's pattern covers its key space; only its events channel carries events.
                if case .message(_, let published, _) = event, let channel, published != channel { return }
                printer.handle(event)
            }
        } catch {
            throw ValidationError(error.message)
        }
        await printer.waitUntilDone()
        subscriber.stop()
        if printer.denied { throw ExitCode(CronlockExit.permissionDenied) }
    }
}

/// Prints each event once (masters each publish it), and counts them for `--count`.
private final class EventPrinter: Sendable {
    private struct State {
        var events = JobEventDeduplicator()
        var printed = 0
        var failing: Set<Int> = []
        var done: CheckedContinuation<Void, Never>?
        var finished = false
        var denied = false
    }

    private let json: Bool
    private let prefix: String
    private let limit: Int?
    private let servers: [RedisServerAddress]
    private let pattern: String
    private let state = PthreadLock(State())

    init(json: Bool, prefix: String, limit: Int?, servers: [RedisServerAddress], pattern: String) {
        self.json = json
        self.prefix = prefix
        self.limit = limit
        self.servers = servers
        self.pattern = pattern
    }

    /// Whether a master's ACL denied the subscription, which ended the watch (exit 77).
    var denied: Bool { state.withLock { $0.denied } }

    func handle(_ event: RedisSubscriber.Event) {
        switch event {
        case .subscribed(let server):
            state.withLock { _ = $0.failing.remove(server) }
        case .failed(let server, let reason) where reason.hasPrefix("NOPERM"):
            // Permissions do not fix themselves by retrying.
            let (first, resume) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.finished else { return (false, nil) }
                state.finished = true
                state.denied = true
                defer { state.done = nil }
                return (true, state.done)
            }
            guard first else { return }
            CronlockMain.printError("permission denied to watch \(pattern) on \(servers[server]): \(reason)")
            resume?.resume()
        case .failed(let server, let reason):
            let first = state.withLock { $0.failing.insert(server).inserted }
            if first { CronlockMain.printError("watch: \(servers[server]): \(reason); retrying every second") }
        case .message(_, _, let payload):
            let resume = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard !state.finished else { return nil }
                let (fields, isNew) = state.events.admit(payload)
                guard isNew else { return nil }
                let line = json ? fields.map { EventJSON.object($0, prefix: prefix) } ?? payload : Self.text(fields, raw: payload)
                var bytes = Array((line + "\n").utf8)
                _ = write(STDOUT_FILENO, &bytes, bytes.count)
                state.printed += 1
                guard let limit, state.printed >= limit else { return nil }
                state.finished = true
                defer { state.done = nil }
                return state.done
            }
            resume?.resume()
        }
    }

    func waitUntilDone() async {
        await withCheckedContinuation { continuation in
            let finished = state.withLock { state in
                if !state.finished { state.done = continuation }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }

    /// `2026-11-23T12:00:00.000Z finished backup [default] on web-3: ok (exit 0, 1.2s) run 1df4…`.
    private static func text(_ fields: [String: String]?, raw: String) -> String {
        guard let fields, let event = fields["event"] else { return raw }
        let at = Int64(fields["at"] ?? "").map { WallClock.iso8601(epochMilliseconds: $0) } ?? "-"
        let job = PauseScope(eventFields: fields)?.description
            ?? [fields["key"], fields["group"].map { "[\($0)]" }].compactMap { $0 }.joined(separator: " ")
        var line = "\(at) \(event) \(job)"
        if let host = fields["host"] { line += " on \(host)" }
        if let outcome = fields["outcome"] {
            let duration = Int64(fields["duration_ms"] ?? "").map { ", \(HistoryCommand.duration($0))" } ?? ""
            line += ": \(outcome) (exit \(fields["exit"] ?? "?")\(duration))"
        }
        if let by = fields["by"] ?? fields["stopped_by"] { line += " by \(by)" }
        if let reason = fields["reason"] ?? fields["stop_reason"], !reason.isEmpty { line += ": \(reason)" }
        if let degraded = fields["degraded"] { line += "; degraded: \(DegradedServer.summary(DegradedServer.parse(field: degraded)))" }
        if let every = Int64(fields["expect_every_ms"] ?? "") {
            line += ": " + JobHealth.expectation(every: .milliseconds(every), lastStartedAt: Int64(fields["last_started_at"] ?? ""))
        }
        if let run = fields["run"] { line += " run \(run)" }
        return line
    }
}
