import Foundation
import RedisTestSupport
import Testing

/// Integration suites run when `redis-server` is available, or when `REDLOCK_REQUIRE_REDIS=1`
/// demands them (then a missing server fails instead of skipping).
let needsRedis = Testing.ConditionTrait.enabled(
    if: RedisServerProcess.shouldRunIntegrationTests,
    "redis-server is not installed; set REDLOCK_REQUIRE_REDIS=1 to fail instead of skip")

/// The fault suite's knobs, from the environment.
enum FaultSettings {
    /// `REDLOCK_FAULT_SEED`: replays a run's fault schedule and contenders' choices; default a
    /// fresh random seed (printed, so any run can be replayed).
    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["REDLOCK_FAULT_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1..<UInt64(1) << 53)
    }()

    /// `REDLOCK_FAULT_CYCLES`: critical sections the safety check runs; default 5 000 (CI). The
    /// documented soak uses 50 000.
    static let cycles: Int = {
        ProcessInfo.processInfo.environment["REDLOCK_FAULT_CYCLES"].flatMap(Int.init).map { max(1, $0) } ?? 5_000
    }()

    /// `REDLOCK_FAULT_LANES`: fault schedules running side by side, so that faults overlap; default
    /// 1 (CI: two lanes leave a majority down often enough to triple the run's time), at most 2.
    static let faultLanes: Int = {
        ProcessInfo.processInfo.environment["REDLOCK_FAULT_LANES"].flatMap(Int.init).map { min(2, max(1, $0)) } ?? 1
    }()
}

extension Duration {
    /// In milliseconds, for reports.
    var milliseconds: Double { Double(nanosecondsRoundedDown) / 1e6 }
}
