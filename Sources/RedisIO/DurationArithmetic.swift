extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max`.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// Whole milliseconds, rounded up, saturating at `Int64.max` (Redis `PX` takes whole milliseconds).
    package var millisecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return scaled.addingReportingOverflow(fraction).overflow ? .max : scaled + fraction
    }
}
