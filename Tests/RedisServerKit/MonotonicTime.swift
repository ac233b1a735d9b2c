#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds on `CLOCK_MONOTONIC`, which on Linux is one clock for the whole system: times taken
/// in different processes (the test, a contender, the command cronlock runs) can be compared.
///
/// Swift's `ContinuousClock` counts on `CLOCK_BOOTTIME` on Linux, which differs from
/// `CLOCK_MONOTONIC` only by time spent suspended; `nanoseconds(of:)` converts an instant by its
/// distance from now, so the conversion holds while the machine does not suspend.
public enum MonotonicTime {
    /// Now, in nanoseconds on `CLOCK_MONOTONIC`.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// `instant` (e.g. a lock's `validUntil`) in nanoseconds on `CLOCK_MONOTONIC`.
    public static func nanoseconds(of instant: ContinuousClock.Instant) -> Int64 {
        let monotonic = now()
        let distance = instant - ContinuousClock.now
        return monotonic + distance.nanosecondsRoundedDown
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating far beyond any test's range).
    public var nanosecondsRoundedDown: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
