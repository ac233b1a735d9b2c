import Mustache

/// One row of the Jobs page: the job's facts as the cells show them, looked up by name (a
/// thousand rows render several times faster than through `Mirror` and optional sections).
struct JobRow: MustacheParent {
    let cells: [String: String]

    init(_ job: JobView) {
        let last = job.lastRun
        cells = [
            "name": job.name, "url": job.url, "group": job.group, "state": job.state, "paused": job.paused ?? "",
            "finishedAt": last?.finishedAt ?? "no finished run", "outcome": last?.outcome ?? "",
            "exitCode": last.map { $0.exitCode.map(String.init) ?? "?" } ?? "", "host": last?.host ?? "",
            "duration": last?.durationMs.map { "\($0) ms" } ?? "", "holder": Self.holder(job),
            "degraded": last.map { $0.degraded.isEmpty ? "" : "degraded: " + $0.degraded.map(\.server).joined(separator: ", ") } ?? "",
        ]
    }

    /// `running on h1`, `unknown on h1 (host presumed dead)`, or nothing.
    private static func holder(_ job: JobView) -> String {
        guard let host = job.host else { return "" }
        return job.activity == "running" ? "running on \(host)" : "\(job.activity) on \(host) (host presumed dead)"
    }

    func child(named name: String) -> Any? {
        cells[name]
    }
}
