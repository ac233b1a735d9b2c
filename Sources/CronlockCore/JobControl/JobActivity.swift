/// What a job is doing now, as a majority of the masters' `running` markers say.
package enum JobActivity: Sendable, Equatable {
    case idle
    /// A run holds the lock.
    case running(run: String, host: String)
    /// A run's lock expired without a `finished` event: its host is presumed dead.
    case unknown(run: String, host: String)

    /// The activity that at least `quorum` of `markers` (one per master that answered) agree on.
    init(_ markers: [RunMarker], quorum: Int) {
        let counts = Dictionary(markers.map { ($0, 1) }, uniquingKeysWith: +)
        guard let (marker, _) = counts.first(where: { $0.value >= quorum }) else {
            self = .idle
            return
        }
        self = marker.isLive ? .running(run: marker.run, host: marker.host) : .unknown(run: marker.run, host: marker.host)
    }

    /// `NAME is not running: …` for a run presumed dead, or nil.
    func presumedDeadText(_ name: String) -> String? {
        guard case .unknown(let run, let host) = self else { return nil }
        return "\(name) is not running: its run \(run) on \(host) ended without a finished event "
            + "(its lock expired; host presumed dead)"
    }
}
