import Foundation
import RedisTestSupport

/// Applies fault episodes to the servers of one cluster and undoes them; counts what it did.
///
/// Episodes of several lanes may run at once, each on servers no other episode is acting on; a
/// delayed restart outlives its episode (the server stays down in the background for
/// `restartDelay`, and other episodes leave it alone).
actor FaultInjector {
    private let cluster: RedisCluster
    /// How long a killed server stays down before its delayed restart: at least the longest TTL.
    let restartDelay: Duration
    /// The lock keys an `.earlyExpiry` expires.
    private let keys: [String]
    /// The contender processes a `.pauseContender` stops.
    private let contenders: [ContenderProcess]
    /// The contender processes' TTL: a `.pauseContender` lasts this long plus its hold.
    private let contenderTTL: Duration
    private(set) var counts: [FaultKind: Int] = [:]
    /// Injection steps that failed (a command to a server that was not answering, …).
    private(set) var errors: [String] = []
    private(set) var down: Set<Int> = []
    /// Servers a fault is acting on now (including those `down`).
    private(set) var busy: Set<Int> = []
    private var restarts: [Task<Void, Never>] = []
    private static let password = "fault-suite-password"

    init(cluster: RedisCluster, restartDelay: Duration, keys: [String] = [], contenders: [ContenderProcess] = [], contenderTTL: Duration = .zero) {
        self.cluster = cluster
        self.restartDelay = restartDelay
        self.keys = keys
        self.contenders = contenders
        self.contenderTTL = contenderTTL
    }

    /// Applies `episode`, waits out its hold, and undoes it (except a delayed restart's downtime).
    /// Returns false, doing nothing, when another episode took one of its servers meanwhile.
    @discardableResult
    func perform(_ episode: FaultEpisode) async -> Bool {
        guard busy.isDisjoint(with: episode.targets) else { return false }
        counts[episode.kind, default: 0] += 1
        busy.formUnion(episode.targets)
        defer { busy.subtract(Set(episode.targets).subtracting(down)) }
        let servers = episode.targets.map { cluster.servers[$0] }
        switch episode.kind {
        case .pauseMinority, .pauseMajority:
            servers.forEach { $0.pause() }
            try? await Task.sleep(for: episode.hold)
            servers.forEach { $0.resume() }
        case .killRestartAfterTTL:
            for index in episode.targets { killAndRestartLater(index) }
        case .killRestartAtOnce:
            for server in servers {
                server.stop()
                await attempt("restart") { try await server.restart() }
            }
        case .debugSleep:
            await withTaskGroup(of: Void.self) { group in
                for server in servers {
                    group.addTask { await self.attempt("DEBUG SLEEP") { try await server.debugSleep(episode.hold) } }
                }
            }
        case .outOfMemory:
            var fillers: [Int] = []
            for server in servers { fillers.append(await fill(server)) }
            try? await Task.sleep(for: episode.hold)
            for (server, count) in zip(servers, fillers) { await unfill(server, fillers: count) }
        case .wrongPassword:
            for server in servers { await lockOut(server) }
            try? await Task.sleep(for: episode.hold)
            for server in servers {
                await attempt("clear requirepass") { try await server.command(["CONFIG", "SET", "requirepass", ""], password: Self.password) }
            }
        case .earlyExpiry:
            for server in servers {
                await attempt("early expiry") { try await server.command(["EVAL", Self.expireEarly, "\(keys.count)"] + keys) }
            }
        case .pauseContender:
            guard let contender = episode.contender.map({ contenders[$0] }) else { break }
            contender.pause()
            try? await Task.sleep(for: contenderTTL + episode.hold)
            contender.resume()
        }
        return true
    }

    /// Expires every key of KEYS that has a TTL within a millisecond, as a clock that jumps
    /// forward past their deadlines would (fences, without a TTL, stay).
    private static let expireEarly = """
        for _, key in ipairs(KEYS) do
          if redis.call('pttl', key) > 0 then redis.call('pexpire', key, 1) end
        end
        return 0
        """

    /// Waits for pending restarts and resumes every server, so the cluster is whole again.
    func healAll() async {
        for restart in restarts { await restart.value }
        restarts = []
        cluster.servers.forEach { $0.resume() }
    }

    private func killAndRestartLater(_ index: Int) {
        let server = cluster.servers[index]
        server.stop()
        down.insert(index)
        let delay = restartDelay
        restarts.append(Task {
            try? await Task.sleep(for: delay)
            await self.attempt("delayed restart") { try await server.restart() }
            self.markUp(index)
        })
    }

    private func markUp(_ index: Int) {
        down.remove(index)
        busy.remove(index)
    }

    /// Caps memory just above its use with `noeviction`, then writes 32 KB fillers until the
    /// server answers OOM. Returns how many fillers it wrote.
    private func fill(_ server: RedisServerProcess) async -> Int {
        var written = 0
        await attempt("fill") {
            guard let used = try await server.info("used_memory").flatMap({ Int($0) }) else { throw HarnessError("no used_memory") }
            try await server.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
            try await server.command(["CONFIG", "SET", "maxmemory", "\(used + 256 * 1024)"])
            let value = String(repeating: "x", count: 32 * 1024)
            while written < 64 {
                if case .error = try await server.command(["SET", "fault:filler:\(written)", value]) { return }
                written += 1
            }
        }
        return written
    }

    private func unfill(_ server: RedisServerProcess, fillers: Int) async {
        await attempt("unfill") {
            try await server.command(["CONFIG", "SET", "maxmemory", "0"])
            if fillers > 0 { try await server.command(["DEL"] + (0..<fillers).map { "fault:filler:\($0)" }) }
        }
    }

    /// Sets a password the clients do not know and drops their connections, so they reconnect
    /// and are refused.
    private func lockOut(_ server: RedisServerProcess) async {
        await attempt("requirepass") {
            try await server.command(["CONFIG", "SET", "requirepass", Self.password])
            try await server.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"], password: Self.password)
        }
    }

    private func attempt(_ step: String, _ body: () async throws -> Void) async {
        do { try await body() } catch { errors.append("\(step): \(error)") }
    }
}
