import RedLock

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

    /// How many jobs' states one script reads.
    private static let jobsPerRead = 100

    /// The state of every job under the prefix (only `group`'s when given), sorted by name: one
    /// script per master for every `jobsPerRead` jobs, the batches in parallel.
    package func jobStates(inGroup group: String? = nil) async throws -> [JobState] {
        let jobs = try await registeredJobs().sorted(by: { $0.key < $1.key })
            .filter { group == nil || group == $0.value }
            .map { JobKeys(prefix: prefix, group: $0.value, name: $0.key) }
        let batches = stride(from: 0, to: jobs.count, by: Self.jobsPerRead).map { Array(jobs[$0..<min($0 + Self.jobsPerRead, jobs.count)]) }
        return try await withThrowingTaskGroup(of: (Int, [JobState]).self) { reads in
            for (index, batch) in batches.enumerated() {
                reads.addTask { (index, try await states(of: batch)) }
            }
            var read = [[JobState]](repeating: [], count: batches.count)
            for try await (index, batch) in reads { read[index] = batch }
            return read.flatMap { $0 }
        }
    }

    /// One job's state in one read per master (`JobScripts.jobStates`).
    package func state(of keys: JobKeys) async throws -> JobState {
        try await states(of: [keys])[0]
    }

    /// The states of `jobs` (not empty) in one script per master, in the same order.
    private func states(of jobs: [JobKeys]) async throws -> [JobState] {
        let keys = jobs.flatMap { [$0.job, $0.pauseAll, $0.pauseGroup, $0.pauseJob, $0.lock] }
        let replies = try await script(JobScripts.jobStates, keys: keys, arguments: [], readOnly: true)
        let perServer = replies.map { reply -> [RedisReply]? in
            if case .success(.array(let parts)) = reply.result, parts.count == jobs.count { parts } else { nil }
        }
        return jobs.enumerated().map { index, keys in merge(keys, perServer.compactMap { $0?[index] }) }
    }

    /// What the masters' answers for one job say together: the newest last run, the holder and the
    /// pause that a majority agrees on, the highest skip counts.
    private func merge(_ keys: JobKeys, _ answers: [RedisReply]) -> JobState {
        var state = JobState(keys: keys)
        var holders: [String: Int] = [:]
        var pauses: [String: Int] = [:]
        for answer in answers {
            guard case .array(let parts) = answer, parts.count == 5 else { continue }
            let job = RunHistory.fields(parts[0]) ?? [:]
            if Int64(job["last_at"] ?? "") ?? 0 > Int64(state.last["last_at"] ?? "") ?? 0 { state.last = job }
            for (field, value) in job where field.hasPrefix("skips:") {
                state.skips[String(field.dropFirst(6)), default: 0] = max(state.skips[String(field.dropFirst(6))] ?? 0, Int(value) ?? 0)
            }
            if case .integer(let ttl) = parts[4], ttl > 0 || ttl == -1, let host = job["running_host"] { holders[host, default: 0] += 1 }
            for (scope, part) in zip(["every job", "group \(keys.group)", "job"], parts[1...3]) {
                guard case .array(let pause) = part, let fields = RunHistory.fields(pause[0]), !fields.isEmpty else { continue }
                let reason = fields["reason"].flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""
                pauses["\(scope) by \(fields["by"] ?? "?")\(reason)", default: 0] += 1
            }
        }
        state.runningHost = holders.first { $0.value >= quorum }?.key
        state.paused = pauses.first { $0.value >= quorum }?.key
        return state
    }

    /// The newest `limit` runs of a job, merged across masters, and the ids of the runs that the
    /// masters answering say are running now.
    package func history(of keys: JobKeys, limit: Int) async throws -> (runs: [RunSummary], running: Set<String>) {
        // Two events per run, and a master may hold events of runs others missed.
        let replies = try await everyServer(["XREVRANGE", keys.history, "+", "-", "COUNT", String(limit * 2 + 8)], key: keys.history)
        try requireMajority(replies, to: "read the history of \(keys.name)")
        let running = try await everyServer(["HGET", keys.job, "running"], key: keys.job)
            .compactMap { reply -> String? in if case .success(let value) = reply.result { value.text } else { nil } }
        let runs = RunHistory.merge(replies.compactMap { try? $0.result.get() }.map(RunHistory.events)).prefix(limit)
        return (Array(runs), Set(running))
    }
}
