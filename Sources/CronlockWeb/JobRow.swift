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
            "duration": last?.durationMs.map { "\($0) ms" } ?? "", "holder": job.runningOn.map { "running on \($0)" } ?? "",
        ]
    }

    func child(named name: String) -> Any? {
        cells[name]
    }
}
