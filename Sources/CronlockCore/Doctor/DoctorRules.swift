import RedLock

/// The operating contract, as rules over what the masters said: the findings of `cronlock
/// doctor` (see the README's "Operating contract"). Pure: no I/O, no clock.
struct DoctorRules: Sendable {
    /// The longest lock a job holds (`--ttl`, and `--min-hold` after it ends).
    var ttl: Duration
    var minimumHold: Duration
    /// The job checked (`--key`), if any, and its group.
    var job: String?
    /// A round trip slower than this is worth a warning.
    static let slowLatency = Duration.milliseconds(50)
    /// A clock difference above this is worth a warning (a failure above `--min-hold`).
    static let clockTolerance = Duration.seconds(1)
    /// A TLS certificate that expires within this many seconds (30 days) is worth a warning.
    static let certificateWarningSeconds: Int64 = 30 * 86_400

    /// Every finding for `facts` (one per configured master, in order).
    func findings(_ facts: [ServerFacts]) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        findings += deploymentFindings(facts)
        for server in facts {
            findings += serverFindings(server)
        }
        findings += clockFindings(facts)
        return findings
    }

    private func deploymentFindings(_ facts: [ServerFacts]) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let count = facts.count
        if count == 1 {
            findings.append(finding(.warning, nil, "masters", "only one master: no failure is tolerated",
                                    fix: "use 3 or 5 independent masters"))
        } else if count % 2 == 0 {
            findings.append(finding(.warning, nil, "masters", "\(count) masters tolerate no more failures than \(count - 1) (a majority is \(count / 2 + 1))",
                                    fix: "use an odd number of masters"))
        }
        var byRunID: [String: [String]] = [:]
        for server in facts { if let runID = server.info["run_id"] { byRunID[runID, default: []].append(server.server) } }
        for (runID, servers) in byRunID.sorted(by: { $0.key < $1.key }) where servers.count > 1 {
            findings.append(finding(.failure, nil, "duplicate", "\(servers.joined(separator: " and ")) are one server (run_id \(runID.prefix(12))…): it counts \(servers.count) times toward the majority",
                                    fix: "list each master once; the masters must be independent servers"))
        }
        return findings
    }

    private func serverFindings(_ server: ServerFacts) -> [DoctorFinding] {
        let name = server.server
        if let failure = server.failure {
            let unusable = server.failureKind == .certificateExpired
                ? finding(.failure, name, "tls-certificate", "every TLS handshake fails: \(failure)",
                          fix: "renew the server's certificate (tls-cert-file in its redis.conf; CONFIG SET tls-cert-file reloads it), or fix the clock that disagrees")
                : finding(.failure, name, "reachable", failure, fix: "check the address, the network, the password (--password-file, CRONLOCK_PASSWORD) and the server")
            return [unusable] + certificateFindings(server, name: name)
        }
        var findings: [DoctorFinding] = []
        let latency = server.latency.map { DurationText.text($0 < .milliseconds(1) ? .milliseconds(1) : $0) } ?? "?"
        let version = server.info["redis_version"] ?? "?"
        if let latency = server.latency, latency > Self.slowLatency {
            findings.append(finding(.warning, name, "latency", "round trip \(DurationText.text(latency)) (Redis \(version))",
                                    fix: "use masters close to the hosts: every acquire and renewal waits for a majority"))
        } else {
            findings.append(finding(.ok, name, "reachable", "authenticated, Redis \(version), round trip under \(latency)"))
        }
        findings += versionFindings(server, name: name)
        findings += memoryFindings(server, name: name)
        findings += persistenceFindings(server, name: name)
        if server.rightsChecked, let job {
            if let problem = server.rightsProblem {
                findings.append(finding(.failure, name, "rights", "cannot take \(job)'s lock or write its job-control keys: \(problem)",
                                        fix: "grant the user the job's keys, EVAL and its group's keys and channels (README: Permissions per team)"))
            } else {
                findings.append(finding(.ok, name, "rights", "may take \(job)'s lock and write its job-control keys (checked on scratch keys, removed)"))
            }
            findings += channelFindings(server, name: name, job: job)
        }
        findings += certificateFindings(server, name: name)
        return findings
    }

    /// Missing channel rights are a warning, not a failure: the job still runs and holds its lock
    /// safely (the scripts publish with `pcall`); only its events and release notices are lost.
    private func channelFindings(_ server: ServerFacts, name: String, job: String) -> [DoctorFinding] {
        let byHand = "or check the user's & channel patterns by hand (README: Permissions per team)"
        switch server.channelRights {
        case .allowed(let user)?:
            return [finding(.ok, name, "channels", "user \(user) may publish and subscribe to \(job)'s channels (ACL DRYRUN: nothing sent)")]
        case .denied(let user, let uses)?:
            let denied = uses.map { "\($0.command) \($0.channel) (\($0.loss))" }.joined(separator: "; ")
            var grants: [String] = []
            for use in uses where !grants.contains(use.grant) { grants.append(use.grant) }
            return [finding(.warning, name, "channels", "user \(user) may not \(denied); the job still runs and holds its lock",
                            fix: "ACL SETUSER \(user) \(grants.joined(separator: " ")) on every master (and in its ACL file)")]
        case .notChecked(let reason)?:
            return [finding(.warning, name, "channels", "could not check \(job)'s channel rights: \(reason)",
                            fix: "let the user run ACL WHOAMI and ACL DRYRUN (+acl|whoami +acl|dryrun), \(byHand)")]
        case nil:
            guard let version = server.version else {
                return [finding(.warning, name, "channels", "could not check \(job)'s channel rights: the Redis version is unknown (INFO denied)",
                                fix: "let the user run INFO, \(byHand)")]
            }
            if version.major < 6 || (version.major == 6 && version.minor < 2) {
                return [finding(.ok, name, "channels", "Redis \(version.major).\(version.minor) has no channel permissions: every user may publish and subscribe")]
            }
            return [finding(.warning, name, "channels", "could not check \(job)'s channel rights: ACL DRYRUN needs Redis 7",
                            fix: "upgrade to Redis 7, \(byHand)")]
        }
    }

    /// The server's certificate (once a handshake succeeded) and ours, against this host's clock.
    private func certificateFindings(_ server: ServerFacts, name: String) -> [DoctorFinding] {
        guard let certificates = server.certificates else { return [] }
        var findings: [DoctorFinding] = []
        if let validity = certificates.server {
            findings.append(certificateFinding(validity, of: "the server's certificate", at: server.askedAtSeconds, name: name,
                                               fix: "renew the server's certificate (tls-cert-file in its redis.conf; CONFIG SET tls-cert-file reloads it)"))
        }
        if let validity = certificates.client {
            findings.append(certificateFinding(validity, of: "the client certificate (--tls-cert-file)", at: server.askedAtSeconds, name: name,
                                               fix: "renew the client certificate (--tls-cert-file, tls-cert-file in the configuration file)"))
        }
        return findings
    }

    private func certificateFinding(_ validity: TLSCertificateValidity, of whose: String, at now: Int64, name: String, fix: String) -> DoctorFinding {
        let until = WallClock.iso8601(epochMilliseconds: validity.notAfterSeconds * 1000)
        if now < validity.notBeforeSeconds {
            let from = WallClock.iso8601(epochMilliseconds: validity.notBeforeSeconds * 1000)
            return finding(.failure, name, "tls-certificate", "\(whose) is not valid until \(from): TLS handshakes fail",
                           fix: "check this host's clock, or \(fix)")
        }
        let left = validity.notAfterSeconds - now
        if left <= 0 {
            return finding(.failure, name, "tls-certificate", "\(whose) expired at \(until): TLS handshakes fail", fix: fix)
        }
        if left < Self.certificateWarningSeconds {
            return finding(.warning, name, "tls-certificate", "\(whose) expires at \(until), in \(Self.spelled(seconds: left))",
                           fix: fix + " before then")
        }
        return finding(.ok, name, "tls-certificate", "\(whose) is valid until \(until)")
    }

    /// `29 days`, `23 hours`, `12 minutes`: a time left, rounded down.
    private static func spelled(seconds: Int64) -> String {
        let (count, unit) = seconds >= 2 * 86_400 ? (seconds / 86_400, "day") : seconds >= 2 * 3600 ? (seconds / 3600, "hour") : (seconds / 60, "minute")
        return "\(count) \(unit)" + (count == 1 ? "" : "s")
    }

    private func versionFindings(_ server: ServerFacts, name: String) -> [DoctorFinding] {
        guard let version = server.version else { return [] }
        if version.major < 5 {
            return [finding(.failure, name, "version", "Redis \(version.major).\(version.minor) lacks streams (job history)", fix: "upgrade to Redis 7")]
        }
        if version.major < 7 {
            return [finding(.warning, name, "version", "Redis \(version.major).\(version.minor): jobs, history and stop read with EVAL_RO (Redis 7)",
                            fix: "upgrade to Redis 7")]
        }
        return []
    }

    private func memoryFindings(_ server: ServerFacts, name: String) -> [DoctorFinding] {
        guard let policy = server.info["maxmemory_policy"] else { return [] }
        let limited = (Int(server.info["maxmemory"] ?? "0") ?? 0) > 0
        let fix = "CONFIG SET maxmemory-policy noeviction (and in redis.conf)"
        if policy.hasPrefix("allkeys-") {
            return [limited
                ? finding(.failure, name, "maxmemory-policy", "\(policy) evicts lock keys when memory is full: a held lock can vanish", fix: fix)
                : finding(.warning, name, "maxmemory-policy", "\(policy) would evict lock keys once a maxmemory is set (none now)", fix: fix)]
        }
        if policy.hasPrefix("volatile-") && limited {
            return [finding(.warning, name, "maxmemory-policy", "\(policy) may evict keys with a TTL, and lock keys have one", fix: fix)]
        }
        return [finding(.ok, name, "maxmemory-policy", policy)]
    }

    private func persistenceFindings(_ server: ServerFacts, name: String) -> [DoctorFinding] {
        let aof = server.info["aof_enabled"] == "1"
        let fsync = server.appendfsync
        let longest = max(ttl, minimumHold)
        var findings: [DoctorFinding] = []
        let durable = aof && fsync == "always"
        if durable {
            findings.append(finding(.ok, name, "persistence", "AOF with appendfsync always: a restarted master keeps the locks it granted"))
        } else if aof {
            let how = fsync.map { "appendfsync \($0)" } ?? "appendfsync unknown (CONFIG GET not permitted)"
            findings.append(finding(.warning, name, "persistence", "AOF with \(how): a machine crash can lose the last writes, and with them locks it granted",
                                    fix: "set appendfsync always, or restart a crashed master only after \(DurationText.text(longest)) (the longest lock)"))
        } else {
            findings.append(finding(.warning, name, "persistence", "no AOF: a restarted master has forgotten every lock it granted",
                                    fix: "restart it only after \(DurationText.text(longest)) (the longest lock: --ttl, --min-hold), or set appendonly yes with appendfsync always"))
        }
        if !durable, let uptime = Int64(server.info["uptime_in_seconds"] ?? ""), Duration.seconds(uptime) < longest {
            findings.append(finding(.warning, name, "restart", "up for only \(uptime)s, less than the longest lock (\(DurationText.text(longest))): if it restarted at once after a crash, a lock it granted may be held twice now",
                                    fix: "restart masters only after the longest lock has passed (README: Why a crashed server restarts only after the longest TTL)"))
        }
        return findings
    }

    /// This host against the masters (their median offset), and each master against the others.
    private func clockFindings(_ facts: [ServerFacts]) -> [DoctorFinding] {
        let offsets = facts.compactMap { server in server.clockOffset.map { (server.server, $0) } }
        guard !offsets.isEmpty else { return [] }
        let median = offsets.map(\.1).sorted()[offsets.count / 2]
        var findings: [DoctorFinding] = []
        for (server, offset) in offsets where Self.magnitude(offset - median) > Self.clockTolerance {
            findings.append(finding(.warning, server, "clock", "its clock is \(Self.signed(offset - median)) off the other masters' (harmless for locks, whose TTLs are relative)",
                                    fix: "keep its clock in sync (NTP, chrony)"))
        }
        let magnitude = Self.magnitude(median)
        let text = "this host's clock is \(Self.signed(.zero - median)) off the masters'"
        let fix = "keep every host's clock in sync (NTP, chrony): hosts whose clocks differ by more than --min-hold (\(DurationText.text(minimumHold))) can run a job twice in one tick"
        if magnitude > minimumHold && magnitude > Self.clockTolerance {
            findings.append(finding(.failure, nil, "clock", text, fix: fix))
        } else if magnitude > Self.clockTolerance {
            findings.append(finding(.warning, nil, "clock", text, fix: fix))
        } else {
            findings.append(finding(.ok, nil, "clock", "\(text) (within \(DurationText.text(Self.clockTolerance)))"))
        }
        return findings
    }

    private static func magnitude(_ offset: Duration) -> Duration { offset < .zero ? .zero - offset : offset }

    /// `+850ms`, `-3600.2s`.
    private static func signed(_ offset: Duration) -> String {
        let milliseconds = Int64((magnitude(offset) / .milliseconds(1)).rounded())
        let text = milliseconds < 1000 ? "\(milliseconds)ms" : "\(milliseconds / 1000).\(milliseconds % 1000 / 100)s"
        return (offset < .zero ? "-" : "+") + text
    }

    private func finding(_ severity: DoctorFinding.Severity, _ server: String?, _ check: String, _ message: String, fix: String? = nil) -> DoctorFinding {
        DoctorFinding(severity: severity, server: server, check: check, message: message, fix: fix)
    }
}
