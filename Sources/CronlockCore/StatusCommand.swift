import ArgumentParser
import RedLock
import RedisIO

/// `cronlock status --key NAME [--json]`: who holds the lock, per server and overall.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show who holds a lock: per server whether the key is held, its TTL and holder, its fence, and a verdict.",
        discussion: "Exit 0 when a majority of servers answered, 69 when they did not, 64 on bad input.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        _ = try connection.redisKey()
    }

    func run() async throws {
        let key = try connection.redisKey()
        let (inspection, minHold, fences) = try await AdminSession.with(connection) { session in
            // The fences are read beside the inspection: one per-server timeout, not two in a row.
            async let fences = Self.fences(of: key, in: session)
            let inspection: LockInspection
            do {
                inspection = try await session.client.inspect(key)
            } catch {
                _ = await fences
                throw ExitCode(CronlockRun.fail(CronlockExit.usage, "\(error)"))
            }
            return (inspection, await minHoldWindow(of: inspection, in: session), await fences)
        }
        print(json ? StatusReport.json(inspection, name: connection.key ?? "", fences: fences)
                   : StatusReport.text(inspection, minHold: minHold, fences: fences))
        let count = inspection.servers.count
        if !json, count % 2 == 0 {
            print("note: \(count) servers tolerate no more failures than \(count - 1); use an odd number")
        }
        if !inspection.majorityAnswered { throw ExitCode(CronlockExit.noQuorum) }
    }

    /// Each server's fence for `key` (nil where none is kept or the server did not answer).
    private static func fences(of key: String, in session: AdminSession) async -> [UInt64?] {
        let fenceKey = RedLockClient.fenceKey(for: key)
        guard let replies = try? await session.everyServer(["GET", fenceKey], key: fenceKey) else { return [] }
        return replies.map { reply in if case .success(.bulk(let text)) = reply.result { UInt64(text) } else { nil } }
    }

    /// For a lock held by a majority, whether its command has finished and the key is only kept
    /// for `--min-hold`, from the job's records (nil while it runs, or without job control).
    private func minHoldWindow(of inspection: LockInspection, in session: AdminSession) async -> MinHoldWindow? {
        guard case .heldByMajority(let holder) = inspection.verdict, let identity = holder.identity, let name = connection.key,
              let keys = try? connection.jobKeys(group: try await session.group(of: name, explicit: nil)),
              let replies = try? await session.everyServer(["HGETALL", keys.job], key: keys.job) else { return nil }
        let jobs = replies.compactMap { reply in if case .success(let value) = reply.result { RunHistory.fields(value) } else { nil } }
        let timesToLive = inspection.servers.filter { $0.holder == holder }.compactMap(\.timeToLive)
        return MinHoldWindow.find(identity: identity, timesToLive: timesToLive, jobs: jobs, quorum: session.quorum,
                                  now: WallClock.epochMilliseconds())
    }
}

/// Renders a `LockInspection` for people (text) and for programs (JSON).
enum StatusReport {
    /// The text report; `minHold` says the command has finished and the key is only kept;
    /// `fences`, each server's fence (in configuration order), when fencing has kept one.
    static func text(_ inspection: LockInspection, minHold: MinHoldWindow? = nil, fences: [UInt64?] = []) -> String {
        let kept = minHold.map { window in
            "; command finished at \(WallClock.iso8601(epochMilliseconds: window.commandFinishedAt)); "
                + "key kept until \(WallClock.iso8601(epochMilliseconds: window.keptUntil)) (--min-hold)"
        } ?? ""
        var lines = ["\(inspection.resource): \(verdict(inspection.verdict))" + (holderText(inspection.verdict).map { " — \($0)" } ?? "") + kept]
        let width = inspection.servers.map { "\($0.server)".count }.max() ?? 0
        for (index, state) in inspection.servers.enumerated() {
            let name = "\(state.server)".padding(to: width)
            let fence = fences.indices.contains(index) ? fences[index].map { "  fence \($0)" } ?? "" : ""
            switch (state.outcome.kind, state.holder) {
            case (.granted, let holder?):
                lines.append("  \(name)  held  ttl \(seconds(state.timeToLive))  \(holder.identity ?? "(no identity)")" + fence)
            case (.granted, nil):
                lines.append("  \(name)  free" + fence)
            default:
                lines.append("  \(name)  error: \(state.outcome)")
            }
        }
        let failing = degraded(inspection)
        if inspection.majorityAnswered, !failing.isEmpty {
            lines.append("degraded: \(failing.count) of \(inspection.servers.count) servers failing; "
                         + DegradedServer.consequence(failing: failing.count, of: inspection.servers.count))
        }
        return lines.joined(separator: "\n")
    }

    /// The inspection in the JSON output schema (see the README's "JSON output"), for job `name`.
    static func json(_ inspection: LockInspection, name: String, fences: [UInt64?] = []) -> String {
        let servers = inspection.servers.enumerated().map { index, state -> String in
            var writer = JSONObjectWriter()
            writer.string("server", "\(state.server)")
            writer.number("fence", fences.indices.contains(index) ? fences[index].map { Int64($0) } : nil)
            switch (state.outcome.kind, state.holder) {
            case (.granted, let holder?):
                writer.string("state", "held")
                writer.number("ttl_ms", state.timeToLive.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 })
                writer.json("holder", holderJSON(holder))
            case (.granted, nil):
                writer.string("state", "free")
            default:
                writer.string("state", "error")
                writer.string("error", "\(state.outcome)")
            }
            return writer.text
        }
        var writer = JSONObjectWriter()
        writer.string("job", name)
        writer.string("key", inspection.resource)
        writer.string("verdict", verdictName(inspection.verdict))
        if case .heldByMajority(let holder) = inspection.verdict { writer.json("holder", holderJSON(holder)) } else { writer.json("holder", "null") }
        writer.json("majority_answered", inspection.majorityAnswered ? "true" : "false")
        writer.json("degraded", DegradedServer.json(degraded(inspection)))
        writer.json("servers", JSONText.array(servers))
        return writer.text
    }

    /// The servers that did not answer.
    private static func degraded(_ inspection: LockInspection) -> [DegradedServer] {
        DegradedServer.failing(in: inspection.servers.map { ServerReport(server: $0.server, outcome: $0.outcome) })
    }

    private static func verdict(_ verdict: LockInspection.Verdict) -> String {
        switch verdict {
        case .heldByMajority: "held by a majority"
        case .free: "free"
        case .unknown: "unknown (too few servers answered, or no holder has a majority)"
        }
    }

    private static func verdictName(_ verdict: LockInspection.Verdict) -> String {
        switch verdict {
        case .heldByMajority: "held"
        case .free: "free"
        case .unknown: "unknown"
        }
    }

    private static func holderText(_ verdict: LockInspection.Verdict) -> String? {
        guard case .heldByMajority(let holder) = verdict else { return nil }
        return holder.identity ?? "(holder stored no identity)"
    }

    /// cronlock's identity `host=web-3 pid=42 started=…` as `{"host", "pid" (a number),
    /// "started_at"}`; another holder's identity as a plain string.
    private static func holderJSON(_ holder: LockInspection.Holder) -> String {
        guard let identity = holder.identity else { return "null" }
        let pairs = identity.split(separator: " ").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
        let fields = Dictionary(pairs.filter { $0.count == 2 }.map { ($0[0], $0[1]) }) { first, _ in first }
        guard pairs.count == 3, let host = fields["host"], let pid = fields["pid"].flatMap({ Int64($0) }), let started = fields["started"] else {
            return JSONText.string(identity)
        }
        var writer = JSONObjectWriter()
        writer.string("host", host)
        writer.number("pid", pid)
        writer.string("started_at", started)
        return writer.text
    }

    private static func seconds(_ duration: Duration?) -> String {
        guard let duration else { return "?" }
        let tenths = (duration.components.seconds * 10) + duration.components.attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)s"
    }
}

extension String {
    func padding(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }
}
