import RedLock
import RedisIO

/// Asks one master what `cronlock doctor` needs, over a connection of its own (so that every
/// master is asked at once, and each round trip is timed alone).
enum DoctorProbe {
    /// Checks that the user may do what a run of the job does, on scratch keys: take a lock-like
    /// key beside the job's lock, write a hash under the job's group, read the global pause (as
    /// an undeclared key, as the acquire does) and write a field of the job registry; everything
    /// is removed by the same script. KEYS: lock scratch, group scratch, registry.
    /// ARGV: global pause key, scratch field.
    static let rightsScript = """
        redis.call('set', KEYS[1], '1', 'px', 5000)
        redis.call('del', KEYS[1])
        redis.call('hset', KEYS[2], 'doctor', '1')
        redis.call('pexpire', KEYS[2], 5000)
        redis.call('del', KEYS[2])
        redis.call('exists', ARGV[1])
        redis.call('hset', KEYS[3], ARGV[2], '1')
        redis.call('hdel', KEYS[3], ARGV[2])
        return 1
        """

    /// What `server` says, with the client settings of `configuration`; `rights`: the job whose
    /// rights to check, if any.
    static func facts(of server: RedisServerAddress, configuration: RedLockConfiguration, rights: JobKeys?) async -> ServerFacts {
        var facts = ServerFacts(server: server.description)
        var single = configuration
        single.servers = [server]
        let client: RedLockClient
        do {
            client = try RedLockClient(configuration: single)
        } catch {
            facts.failure = error.message
            return facts
        }
        await probe(client, into: &facts, rights: rights)
        if server.usesTLS {
            facts.certificates = (try? await client.tlsCertificates())?.first ?? nil
        }
        await client.shutdown()
        return facts
    }

    private static func probe(_ client: RedLockClient, into facts: inout ServerFacts, rights: JobKeys?) async {
        facts.askedAtSeconds = WallClock.epochMilliseconds() / 1000
        // The first command opens the connection (and authenticates); the second is timed.
        if case .failure(let failure) = await send(["PING"], client) {
            facts.failure = failure.description
            facts.failureKind = failure.kind
            return
        }
        let start = ContinuousClock.now
        _ = await send(["PING"], client)
        facts.latency = ContinuousClock.now - start
        if case .success(let info) = await send(["INFO"], client), let text = info.text {
            facts.info = ServerFacts.fields(ofInfo: text)
        }
        if case .success(.array(let pair)) = await send(["CONFIG", "GET", "appendfsync"], client), pair.count == 2 {
            facts.appendfsync = pair[1].text
        }
        let before = WallClock.epochMilliseconds()
        let time = await send(["TIME"], client)
        let after = WallClock.epochMilliseconds()
        if case .success(.array(let parts)) = time, parts.count == 2, let seconds = Int64(parts[0].text ?? ""),
           let microseconds = Int64(parts[1].text ?? "") {
            facts.clockOffset = .milliseconds(seconds * 1000 + microseconds / 1000 - (before + after) / 2)
        }
        if let rights {
            facts.rightsChecked = true
            let scratch = "doctor-\(RunRecord.makeRunID())"
            let keys = [rights.lock + ":" + scratch, rights.job + ":" + scratch, rights.registry]
            if case .failure(let problem) = await send(["EVAL", rightsScript, "3"] + keys + [rights.pauseAll, scratch], client) {
                facts.rightsProblem = problem.detail ?? problem.description
            }
            if let version = facts.version, version.major >= 7 {
                facts.channelRights = await channelRights(of: rights, client)
            }
        }
    }

    /// Asks `ACL DRYRUN` (Redis 7: it checks, runs nothing, so no watcher hears a thing) whether
    /// the connection's ACL user (`ACL WHOAMI`) may use each of the job's channels.
    private static func channelRights(of keys: JobKeys, _ client: RedLockClient) async -> ChannelRights {
        let user: String
        switch await send(["ACL", "WHOAMI"], client) {
        case .success(let reply):
            guard let name = reply.text else { return .notChecked("ACL WHOAMI answered \(reply)") }
            user = name
        case .failure(let problem):
            return .notChecked("ACL WHOAMI: \(problem.detail ?? problem.description)")
        }
        var denied: [ChannelUse] = []
        for use in ChannelUse.uses(of: keys) {
            switch await send(["ACL", "DRYRUN", user] + use.dryRunArguments, client) {
            case .success(.status("OK")): continue
            // A denial is a bulk reply saying why ("… no permissions to access the '…' channel").
            case .success: denied.append(use)
            case .failure(let problem): return .notChecked("ACL DRYRUN: \(problem.detail ?? problem.description)")
            }
        }
        return denied.isEmpty ? .allowed(user: user) : .denied(user: user, denied)
    }

    /// One command on the client's only server: its reply, or why there is none.
    private static func send(_ arguments: [String], _ client: RedLockClient) async -> ServerResult<RedisReply> {
        do {
            guard let reply = try await client.sendToEveryServer(arguments, key: "doctor").first else {
                return .failure(ServerOutcome(.connectionFailed, detail: "no reply"))
            }
            return reply.result
        } catch {
            return .failure(ServerOutcome(.connectionFailed, detail: error.message))
        }
    }
}
