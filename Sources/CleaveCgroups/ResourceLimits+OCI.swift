import Glibc

/// The OCI runtime-spec's linux.resources, converted the way runc, crun and
/// youki do for cgroup v2.
extension ResourceLimits {
    public static func fromOCI(memoryLimit: Int64?, memoryReservation: Int64?, memorySwap: Int64?,
                               cpuShares: UInt64?, cpuQuota: Int64?, cpuPeriod: UInt64?,
                               pidsLimit: Int64?, unified: [String: String]?) throws -> ResourceLimits {
        func field(_ name: String, _ why: String) -> ParseError { ParseError(name, why) }
        var l = ResourceLimits()
        func bytes(_ v: Int64, _ name: String) throws -> LimitValue {
            if v == -1 { return .max }
            guard v >= 0 else { throw field("linux.resources.\(name)", "\(v) is negative (use -1 for unlimited)") }
            return .value(UInt64(v))
        }
        if let m = memoryLimit { l.memoryMax = try bytes(m, "memory.limit") }
        if let r = memoryReservation { l.memoryLow = try bytes(r, "memory.reservation") }
        if let swap = memorySwap {
            // OCI's swap is memory+swap; cgroup v2's memory.swap.max is swap alone.
            if swap == -1 { l.memorySwapMax = .max } else {
                guard let limit = memoryLimit else {
                    throw field("linux.resources.memory.swap", "set without linux.resources.memory.limit (swap is memory+swap)")
                }
                if limit == -1 {
                    throw field("linux.resources.memory.swap", "\(swap) with an unlimited memory.limit: swap must be -1 too")
                }
                guard swap >= limit else {
                    throw field("linux.resources.memory.swap", "\(swap) is less than memory.limit \(limit) (swap is memory+swap)")
                }
                l.memorySwapMax = .value(UInt64(swap - limit))
            }
        }
        if let shares = cpuShares, shares != 0 { l.cpuWeight = cpuWeight(fromShares: shares) }
        if cpuQuota != nil || cpuPeriod != nil {
            if let p = cpuPeriod, !(1000...1_000_000).contains(p) {
                throw field("linux.resources.cpu.period", "\(p) must be from 1000 to 1000000 microseconds")
            }
            let quota: UInt64?
            if let q = cpuQuota, q > 0 { quota = UInt64(q) } else if let q = cpuQuota, q != -1 {
                throw field("linux.resources.cpu.quota", "\(q) must be positive or -1 for unlimited")
            } else { quota = nil }
            l.cpuMax = CPUMax(quota: quota, period: cpuPeriod ?? 100_000)
        }
        if let p = pidsLimit { l.pidsMax = p <= 0 ? .max : .value(UInt64(p)) }
        if let unified {
            l.unified = unified
            do { try l.validate() } catch let e as ParseError {
                throw field("linux.resources.unified", e.description)
            }
        }
        return l
    }

    /// cpu.shares (2...262144, default 1024) to cpu.weight (1...10000,
    /// default 100) on a quadratic curve through both defaults and ends.
    public static func cpuWeight(fromShares shares: UInt64) -> UInt64 {
        if shares <= 2 { return 1 }
        if shares >= 262_144 { return 10_000 }
        let l = log2(Double(shares))
        let exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0
        return UInt64(ceil(pow(10, exponent)))
    }
}
