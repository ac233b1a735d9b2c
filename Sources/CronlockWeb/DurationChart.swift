/// The durations of a job's runs as an inline SVG bar chart, drawn on the server (oldest left,
/// bars coloured by outcome), so the page needs no script to show it.
enum DurationChart {
    static let width = 720.0
    static let height = 160.0

    static func svg(_ runs: [RunView]) -> String {
        let timed = runs.reversed().compactMap { run in run.durationMs.map { (run, Double($0)) } }
        guard !timed.isEmpty else { return "<p class=\"note\">No finished runs to chart.</p>" }
        let longest = max(timed.map(\.1).max() ?? 1, 1)
        let (left, bottom, top) = (48.0, 18.0, 8.0)
        let plotHeight = height - bottom - top
        let slot = min(24, (width - left) / Double(timed.count))
        var parts = ["<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"duration-chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                     + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Run durations, oldest first\">",
                     "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"#99a\"/>",
                     "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width)\" y2=\"\(top + plotHeight)\" stroke=\"#99a\"/>",
                     "<text x=\"\(left - 4)\" y=\"\(top + 8)\" text-anchor=\"end\">\(label(longest))</text>",
                     "<text x=\"\(left - 4)\" y=\"\(top + plotHeight)\" text-anchor=\"end\">0</text>"]
        for (index, (run, milliseconds)) in timed.enumerated() {
            let barHeight = max(1, plotHeight * milliseconds / longest)
            let x = left + Double(index) * slot + slot * 0.15
            let colour = run.outcome == "ok" ? "#2e8540" : run.outcome == "stopped" ? "#b7791f" : "#c0392b"
            parts.append("<rect x=\"\(rounded(x))\" y=\"\(rounded(top + plotHeight - barHeight))\" width=\"\(rounded(max(1, slot * 0.7)))\" "
                         + "height=\"\(rounded(barHeight))\" fill=\"\(colour)\"><title>\(HTMLText.escaped(run.startedAt)): "
                         + "\(label(milliseconds)) \(HTMLText.escaped(run.outcome))</title></rect>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// `850 ms`, `12.3 s`, `4.1 min`.
    static func label(_ milliseconds: Double) -> String {
        if milliseconds < 1000 { return "\(Int(milliseconds)) ms" }
        if milliseconds < 60_000 { return "\(rounded(milliseconds / 1000)) s" }
        return "\(rounded(milliseconds / 60_000)) min"
    }

    private static func rounded(_ value: Double) -> String {
        String((value * 10).rounded() / 10)
    }
}
