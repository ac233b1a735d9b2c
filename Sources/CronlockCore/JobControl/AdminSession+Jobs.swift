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

    /// How many jobs one script reads: a page of 1 000 jobs is four scripts per master, sent at
    /// once, each short enough not to hold up the masters' lock commands for long.
    private static let jobsPerRead = 250

    /// The state of every job under the prefix (only `group`'s when given), sorted by name: one
    /// script per master for every `jobsPerRead` jobs, the scripts in parallel. Throws `JobControlError`.
    package func jobStates(inGroup group: String? = nil) async throws -> [JobState] {
        let jobs = try await registeredJobs().sorted(by: { $0.key < $1.key })
            .filter { group == nil || group == $0.value }
            .map { JobKeys(prefix: prefix, group: $0.value, name: $0.key) }
        let batches = stride(from: 0, to: jobs.count, by: Self.jobsPerRead).map { Array(jobs[$0..<min($0 + Self.jobsPerRead, jobs.count)]) }
        return try await withThrowingTaskGroup(of: (Int, [JobState]).self) { reads in
            for (index, batch) in batches.enumerated() {
                reads.addTask { (index, try await self.states(of: batch)) }
            }
            var read = [[JobState]](repeating: [], count: batches.count)
            for try await (index, states) in reads { read[index] = states }
            return read.flatMap { $0 }
        }
    }

    /// One job's state, in one read per master (`JobScripts.jobStates`). Throws `JobControlError`.
    package func state(of keys: JobKeys) async throws -> JobState {
        try await states(of: [keys])[0]
    }

    /// The states of `jobs` (not empty), in their order, in one script per master. Throws
    /// `JobControlError` without a majority's answer.
    private func states(of jobs: [JobKeys]) async throws -> [JobState] {
        let keys = jobs.flatMap { [$0.job, $0.pauseAll, $0.pauseGroup, $0.pauseJob, $0.lock] }
        let replies = try await script(JobScripts.jobStates, keys: keys, arguments: [], readOnly: true)
        try requireMajority(replies, to: "read the state of \(jobs.count == 1 ? jobs[0].name : "\(jobs.count) jobs")")
        let perServer = replies.compactMap { reply -> [RedisReply]? in
            if case .success(.array(let parts)) = reply.result, parts.count == jobs.count { parts } else { nil }
        }
        return jobs.enumerated().map { index, keys in merge(keys, perServer.map { $0[index] }) }
    }

    /// What the masters' answers for one job say together: the newest last run, the activity and
    /// the pause that a majority agrees on, the highest skip and run counts.
    private func merge(_ keys: JobKeys, _ answers: [RedisReply]) -> JobState {
        var state = JobState(keys: keys)
        var markers: [RunMarker] = []
        var pauses: [JobPause: Int] = [:]
        let scopes = [PauseScope(kind: .all), PauseScope(kind: .group, group: keys.group), PauseScope.job(keys)]
        for answer in answers {
            guard case .array(let parts) = answer, parts.count == 5 else { continue }
            let job = RunHistory.fields(parts[0]) ?? [:]
            if Int64(job["last_at"] ?? "") ?? 0 > Int64(state.last["last_at"] ?? "") ?? 0 { state.last = job }
            for (field, value) in job {
                guard let count = Int(value) else { continue }
                // Each master counts what reached it: the highest count is the truth.
                if field.hasPrefix("skips:") { state.skips[String(field.dropFirst(6))] = max(state.skips[String(field.dropFirst(6))] ?? 0, count) }
                if field.hasPrefix("runs:") { state.runs[String(field.dropFirst(5))] = max(state.runs[String(field.dropFirst(5))] ?? 0, count) }
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
