import CronlockCore
import Hummingbird
import Prometheus

/// `GET /metrics`: the jobs and masters as they are now, in Prometheus text format. Built fresh
/// on every scrape from what the masters hold (the dashboard keeps no state), plus the masters'
/// request latency and errors as this dashboard's connections saw them since it started.
enum MetricsPage {
    static func render(dashboard: Dashboard) async throws -> Response {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ subsystem: String, _ name: String, unit: String = "", _ help: String, _ labels: [(String, String)], _ value: Double) {
            let descriptor = MetricNameDescriptor(namespace: "cronlock", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
            registry.makeGauge(descriptor: descriptor, labels: labels).set(to: value)
        }
        let now = WallClock.epochMilliseconds()
        for job in try await dashboard.jobStates(group: nil) {
            let labels = [("job", job.keys.name), ("group", job.keys.group)]
            gauge("job", "paused", "1 while the job (or its group, or every job) is paused.", labels, job.paused == nil ? 0 : 1)
            let running = if case .running = job.activity { 1.0 } else { 0.0 }
            gauge("job", "running", "1 while a run of the job holds its lock.", labels, running)
            let unknown = if case .unknown = job.activity { 1.0 } else { 0.0 }
            gauge("job", "unknown", "1 while the job's last run ended without a finished event (its host presumed dead).", labels, unknown)
            let health = job.health(now: now)
            for state in JobHealth.allCases {
                gauge("job", "health", "1 for the job's health (ok, late, failing, paused), as cronlock jobs shows it.",
                      labels + [("health", state.rawValue)], state == health ? 1 : 0)
            }
            gauge("job", "late", "1 while the job (with --expect-every) is late: no run started within its interval and grace.", labels, health == .late ? 1 : 0)
            for outcome in Set(RunOutcome.allCases.map(\.rawValue)).union(job.runs.keys).sorted() {
                let descriptor = MetricNameDescriptor(namespace: "cronlock", subsystem: "job", metricName: "runs", unitName: "total",
                                                      helpText: "Finished runs of the job on every host, by outcome (ok is a success).")
                registry.makeCounter(descriptor: descriptor, labels: labels + [("outcome", outcome)]).increment(by: Int64(job.runs[outcome] ?? 0))
            }
            for (host, skips) in job.skips {
                let descriptor = MetricNameDescriptor(namespace: "cronlock", subsystem: "job", metricName: "skips", unitName: "total",
                                                      helpText: "Runs skipped because another host held the lock.")
                registry.makeCounter(descriptor: descriptor, labels: labels + [("host", host)]).increment(by: Int64(skips))
            }
            guard let outcome = job.lastOutcome else { continue }
            if let finished = job.lastFinishedAt {
                gauge("job", "last_finish_timestamp", unit: "seconds", "When the job's last finished run ended (Unix time).", labels, Double(finished) / 1000)
            }
            if let milliseconds = job.lastDurationMilliseconds {
                gauge("job", "last_duration", unit: "seconds", "How long the job's last finished run took.", labels, Double(milliseconds) / 1000)
            }
            gauge("job", "last_success", "1 when the job's last finished run succeeded.", labels, outcome == "ok" ? 1 : 0)
            if let code = job.last["last_exit"].flatMap({ Double($0) }) {
                gauge("job", "last_exit_code", "The exit code of the job's last finished run.", labels, code)
            }
        }
        for master in await dashboard.masterHealth() {
            let labels = [("server", master.server)]
            gauge("master", "up", "1 when the master answered INFO.", labels, master.up ? 1 : 0)
            if let latency = master.latencyMs {
                gauge("master", "latency", unit: "seconds", "One INFO round trip to the master.", labels, latency / 1000)
            }
        }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        dashboard.connectionMetrics.emit(into: &bytes)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
