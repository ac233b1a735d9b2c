/// One row of the Jobs page, as HTML with every value escaped. Written out here rather than by a
/// Mustache section: a thousand rows render several times faster (see the README's "Load").
enum JobRow {
    static func html(_ job: JobView) -> String {
        let last = job.lastRun
        let degraded = last.map { $0.degraded.isEmpty ? "" : "degraded: " + $0.degraded.map(\.server).joined(separator: ", ") } ?? ""
        let exitCode = last.map { $0.exitCode.map(String.init) ?? "?" } ?? ""
        let duration = last?.durationMs.map { "\($0) ms" } ?? ""
        let (name, state, outcome) = (HTMLText.escaped(job.name), HTMLText.escaped(job.state), HTMLText.escaped(last?.outcome ?? ""))
        var row = "<tr data-job=\"\(name)\"><td><a href=\"\(HTMLText.escaped(job.url))\">\(name)</a></td><td>\(HTMLText.escaped(job.group))</td>"
        row += "<td><span class=\"state state-\(state)\">\(state)</span> <span class=\"note\">\(HTMLText.escaped(job.paused ?? ""))</span></td>"
        row += "<td>\(HTMLText.escaped(last?.finishedAt ?? "no finished run")) <span class=\"state state-\(outcome)\">\(outcome)</span> "
        row += "\(HTMLText.escaped(exitCode)) <span class=\"note\">\(HTMLText.escaped(degraded))</span></td>"
        row += "<td>\(HTMLText.escaped(last?.host ?? ""))</td><td>\(HTMLText.escaped(duration))</td><td>\(HTMLText.escaped(holder(job)))</td></tr>\n"
        return row
    }

    /// `running on h1`, `unknown on h1 (host presumed dead)`, or nothing.
    private static func holder(_ job: JobView) -> String {
        guard let host = job.host else { return "" }
        return job.activity == "running" ? "running on \(host)" : "\(job.activity) on \(host) (host presumed dead)"
    }
}
