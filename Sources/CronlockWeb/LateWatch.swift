import CronlockCore
import Logging
import ServiceLifecycle

/// The dashboard's missed-run check: every `interval` it reads every job, and announces each job
/// with `--expect-every` that became late (`late` event on its channel), once per lateness; with
/// `--notify-late` it runs that command once for each, with the lateness in its environment.
/// Several dashboards on one fleet announce and notify once between them (see
/// `AdminSession.announce(_:claimant:)`). A check that fails is logged and retried at the next.
struct LateWatch: Service {
    /// The default of `--late-check-every`.
    static let defaultInterval = Duration.seconds(15)

    let dashboard: Dashboard
    let interval: Duration
    let notify: NotifyPlan?
    /// This dashboard, as its claims on the masters name it: host, pid and a random part.
    let claimant: String

    init(dashboard: Dashboard, interval: Duration, notify: NotifyPlan?) {
        self.dashboard = dashboard
        self.interval = interval
        self.notify = notify
        var random = SystemRandomNumberGenerator()
        claimant = "cronlock-web:\(ConnectionOptions.hostName()):\(String(random.next() as UInt64, radix: 16))"
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await check()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One check: announces every new lateness and notifies for those this dashboard announced first.
    func check() async {
        let session = dashboard.session
        do {
            for late in try await session.lateJobs(now: WallClock.epochMilliseconds()) {
                guard try await session.announce(late, claimant: claimant) else { continue }
                dashboard.settings.logger.info("job is late", metadata: ["cronlock.job": "\(late.keys.name)", "cronlock.group": "\(late.keys.group)"])
                await notify?.run(facts: late.facts, logger: dashboard.settings.logger)
            }
        } catch {
            dashboard.settings.logger.warning("late check failed", metadata: ["cronlock.error": "\(error)"])
        }
    }
}
