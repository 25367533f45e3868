import Glibc

/// The one clock for deadlines and latency figures. CLOCK_MONOTONIC is what
/// the kernel's own timestamps compare against and never jumps.
public enum Clock {
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Now plus `duration`, saturated: a deadline that never overflows.
    public static func deadline(after duration: Duration) -> UInt64 {
        let (sum, overflow) = monotonicNanoseconds().addingReportingOverflow(duration.nanosecondsSaturating)
        return overflow ? .max : sum
    }

    public static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension Duration {
    /// Whole nanoseconds, 0 for a negative duration and saturated at UInt64.max: deadlines
    /// computed from parsed durations never trap.
    public var nanosecondsSaturating: UInt64 {
        let (s, atto) = components
        guard s >= 0, atto >= 0 else { return 0 }
        let (whole, overflow) = UInt64(s).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, carry) = whole.addingReportingOverflow(UInt64(atto / 1_000_000_000))
        return carry ? .max : sum
    }

    /// Seconds as a Double, for reports and JSON.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
