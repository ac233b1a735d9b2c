import CronlockCore
import Hummingbird
import Logging
import Prometheus
import RedLock

/// What the routes ask of the masters, through `CronlockCore`'s job control: reads of jobs,
/// history, holders and masters, and the pause, resume and stop actions. Holds connections, no
/// state of its own. Failures throw `APIError` with the HTTP status that fits.
package final class Dashboard: Sendable {
    let session: AdminSession
    /// One client per master, for per-master health and latency.
    private let masters: [RedLockClient]
    package let settings: WebSettings
    /// The masters' request latency and errors as this dashboard's connections saw them (the
    /// library's `redlock.server.*` metrics as `cronlock_master_request_duration_seconds` and
    /// `cronlock_master_errors_total`), for `/metrics`.
    let connectionMetrics = PrometheusCollectorRegistry()

    /// Connects to the masters of `settings` (lazily; an unreachable master is reported, not thrown).
    package init(settings: WebSettings) throws {
        self.settings = settings
        var redis = settings.redis
        redis.metricsFactory = Self.metricsFactory(connectionMetrics)
        do {
            var reads = redis
            reads.tuning.serverTimeout = redis.tuning.serverTimeout ?? Self.serverTimeout
            session = AdminSession(client: try RedLockClient(configuration: reads), prefix: settings.prefix)
            masters = try redis.servers.map { server in
                var single = redis
                single.servers = [server]
                return try RedLockClient(configuration: single)
            }
        } catch {
            throw APIError(.internalServerError, "configuration", "\(error)")
        }
    }

    /// How long the job reads and actions wait for each master, unless the configuration sets a
    /// `serverTimeout`: a page reads every job at once, which on a loaded machine can take longer
    /// than cronlock's default of 1 s. The masters page keeps 1 s per `INFO`.
    static let serverTimeout = Duration.seconds(5)

    /// The library's metrics into `registry`, named as `/metrics` shows them.
    private static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            switch name {
            case "redlock.server.errors": ("cronlock_master_errors_total", labels)
            case "redlock.server.latency": ("cronlock_master_request_duration_seconds", labels)
            default: (name.replacing(".", with: "_"), labels)
            }
        }
        return factory
    }

    /// Closes every connection.
    package func shutdown() async {
        await session.client.shutdown()
        for master in masters { await master.shutdown() }
    }

    /// Every job (only `group`'s when given), what needs attention first. Throws 400 for a bad group.
    func jobs(group: String?) async throws -> [JobView] {
        let now = WallClock.epochMilliseconds()
        let views = try await jobStates(group: group).map { JobView($0, now: now) }
        // Sorted by key, then gathered: moving the views themselves while sorting costs more.
        let keys = views.map(JobView.attentionKey)
        return views.indices.sorted { keys[$0] < keys[$1] }.map { views[$0] }
    }

    /// Every job's state as `CronlockCore` reads it (only `group`'s when given), by name.
    func jobStates(group: String?) async throws -> [JobState] {
        if let group, let problem = JobKeys.problem(withGroup: group) { throw APIError(.badRequest, "bad_group", problem) }
        return try await failures { try await session.jobStates(inGroup: group) }
    }

    /// The keys of job `name` in the group the masters registered it under; 404 when no job of
    /// that name ever ran.
    func keys(of name: String) async throws -> JobKeys {
        guard let group = try await failures({ try await session.registeredJobs() })[name] else {
            throw APIError(.notFound, "unknown_job", "no job named \"\(name)\" has run under this prefix")
        }
        return JobKeys(prefix: settings.prefix, group: group, name: name)
    }

    func job(_ keys: JobKeys) async throws -> JobView {
        JobView(try await failures { try await session.state(of: keys) }, now: WallClock.epochMilliseconds())
    }

    /// Page `page` (from 0) of `size` runs, newest first, and whether older runs exist.
    func history(_ keys: JobKeys, page: Int, size: Int) async throws -> (runs: [RunView], more: Bool) {
        let (runs, running) = try await failures { try await session.history(of: keys, limit: (page + 1) * size + 1) }
        let pageRuns = runs.dropFirst(page * size).prefix(size).map { RunView($0, runningNow: running.contains($0.run)) }
        return (Array(pageRuns), runs.count > (page + 1) * size)
    }

    /// The lock of the job on each master: holder identity and TTL.
    func holders(_ keys: JobKeys) async throws -> [HolderView] {
        do {
            return try await session.client.inspect(keys.lock).servers.map(HolderView.init)
        } catch {
            throw APIError(.badRequest, "bad_job", "\(error)")
        }
    }

    /// Each master's health, asked in parallel.
    func masterHealth() async -> [MasterView] {
        await withTaskGroup(of: (Int, MasterView).self) { group in
            for (index, master) in masters.enumerated() {
                group.addTask { (index, await MasterProbe.probe(master)) }
            }
            var views: [(Int, MasterView)] = []
            for await view in group { views.append(view) }
            return views.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Pauses the job for `duration` (nil: until resumed); returns when it ends by itself (Unix ms).
    @discardableResult
    func pause(_ keys: JobKeys, for duration: Duration?, reason: String, by requester: String) async throws -> Int64? {
        try await failures { try await session.pause(.job(keys), for: duration, reason: reason, by: requester) }
    }

    /// Resumes the job; returns whether it was paused.
    func resume(_ keys: JobKeys, by requester: String) async throws -> Bool {
        try await failures { try await session.resume(.job(keys), by: requester) }
    }

    /// Asks the host running the job to stop that run; returns the runs asked. 409 when none runs.
    func stop(_ keys: JobKeys, reason: String, by requester: String) async throws -> Set<String> {
        try await failures { try await session.requestStop(keys, reason: reason, by: requester) }
    }

    /// Who an action is recorded as (`by`): the role and this dashboard's host, as cronlock's
    /// commands record `user@host`.
    static func requester(_ role: Role) -> String {
        "\(role.name)@cronlock-web:\(ConnectionOptions.hostName())"
    }

    /// `body`, with job control's failures as HTTP errors.
    private func failures<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let failure as JobControlError {
            switch failure.exitCode {
            case CronlockExit.notRunning: throw APIError(.conflict, "not_running", failure.message)
            case CronlockExit.permissionDenied: throw APIError(.badGateway, "permission_denied", failure.message)
            case CronlockExit.noQuorum: throw APIError(.serviceUnavailable, "no_quorum", failure.message)
            default: throw APIError(.badRequest, "bad_request", failure.message)
            }
        }
    }
}
