import RedLock
import RedisIO

extension AdminSession {
    /// Every job that ever ran under the prefix, name → group, merged from the masters' registries.
    /// Throws `JobControlError` without a majority's answer.
    package func registeredJobs() async throws -> [String: String] {
        let registry = JobKeys.registry(prefix: prefix)
        let replies = try await everyServer(["HGETALL", registry], key: registry)
        try requireMajority(replies, to: "list jobs")
        var groups: [String: String] = [:]
        for reply in replies {
            guard case .success(let value) = reply.result, let fields = RunHistory.fields(value) else { continue }
            groups.merge(fields) { current, _ in current }
        }
        return groups
    }

    /// How many jobs' states are read at once.
    private static let concurrentReads = 16

    /// The state of every job under the prefix (only `group`'s when given), sorted by name; up to
    /// `concurrentReads` jobs are read at once. Throws `JobControlError`.
    package func jobStates(inGroup group: String? = nil) async throws -> [JobState] {
        let jobs = try await registeredJobs().sorted(by: { $0.key < $1.key })
            .filter { group == nil || group == $0.value }
            .map { JobKeys(prefix: prefix, group: $0.value, name: $0.key) }
        return try await withThrowingTaskGroup(of: (Int, JobState).self) { reads in
            var states = [JobState?](repeating: nil, count: jobs.count)
            for (index, keys) in jobs.enumerated() {
                if index >= Self.concurrentReads, let read = try await reads.next() { states[read.0] = read.1 }
                reads.addTask { (index, try await self.state(of: keys)) }
            }
            for try await (done, state) in reads { states[done] = state }
            return states.compactMap { $0 }
        }
    }

    /// One job's state, in one read per master (`JobScripts.jobState`). Throws `JobControlError`.
    package func state(of keys: JobKeys) async throws -> JobState {
        let replies = try await script(JobScripts.jobState, keys: [keys.job, keys.pauseAll, keys.pauseGroup, keys.pauseJob, keys.lock],
                                       arguments: [], readOnly: true)
        var state = JobState(keys: keys)
        var markers: [RunMarker] = []
        var pauses: [JobPause: Int] = [:]
        let scopes = [PauseScope(kind: .all), PauseScope(kind: .group, group: keys.group), PauseScope.job(keys)]
        for reply in replies {
            guard case .success(.array(let parts)) = reply.result, parts.count == 5 else { continue }
            let job = RunHistory.fields(parts[0]) ?? [:]
            if Int64(job["last_at"] ?? "") ?? 0 > Int64(state.last["last_at"] ?? "") ?? 0 { state.last = job }
            for (field, value) in job where field.hasPrefix("skips:") {
                state.skips[String(field.dropFirst(6)), default: 0] = max(state.skips[String(field.dropFirst(6))] ?? 0, Int(value) ?? 0)
            }
            if let marker = RunMarker(parts[4]) { markers.append(marker) }
            if let every = Int64(job["expect_every_ms"] ?? "") { state.expectEvery = max(state.expectEvery ?? .zero, .milliseconds(every)) }
            for started in [job["last_started"], job["running_since"]].compactMap({ Int64($0 ?? "") }) {
                state.lastStartedAt = max(state.lastStartedAt ?? 0, started)
            }
            for (scope, part) in zip(scopes, parts[1...3]) {
                guard case .array(let pause) = part, let fields = RunHistory.fields(pause[0]), !fields.isEmpty else { continue }
                pauses[JobPause(scope: scope, by: fields["by"], reason: fields["reason"] ?? "", until: fields["until"].flatMap { Int64($0) }), default: 0] += 1
            }
        }
        state.activity = JobActivity(markers, quorum: quorum)
        state.paused = pauses.first { $0.value >= quorum }?.key
        return state
    }

    /// The newest `limit` runs of a job, merged across masters (a run shows once), and the id of
    /// the run a majority says is running now (empty when none). Throws `JobControlError`.
    package func history(of keys: JobKeys, limit: Int) async throws -> (runs: [RunSummary], running: Set<String>) {
        // Two events per run, and a master may hold events of runs others missed.
        let replies = try await everyServer(["XREVRANGE", keys.history, "+", "-", "COUNT", String(limit * 2 + 8)], key: keys.history)
        try requireMajority(replies, to: "read the history of \(keys.name)")
        let markers = RunMarker.markers(in: try await script(JobScripts.currentRun, keys: [keys.job, keys.lock], arguments: [], readOnly: true))
        let running: Set<String>
        if case .running(let run, _) = JobActivity(markers, quorum: quorum) { running = [run] } else { running = [] }
        let runs = RunHistory.merge(replies.compactMap { $0.result.value }.map(RunHistory.events)).prefix(limit)
        return (Array(runs), running)
    }
}
