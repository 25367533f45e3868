import CleaveCgroups
import CleaveSystem

/// Turns `cleave run`'s limit flags into ResourceLimits, with errors that name
/// the flag and the value (exit 125).
public enum RunOptionsParser {
    public static func size(_ text: String, option: String) throws -> UInt64 {
        do { return try ByteSize.parse(text) } catch { throw CleaveError.wrapped(context: "\(option)", error) }
    }

    public static func limit(_ text: String?, option: String) throws -> LimitValue? {
        guard let text else { return nil }
        do { return try ByteSize.parseLimit(text) } catch { throw CleaveError.wrapped(context: "\(option)", error) }
    }

    public static func limits(memoryMax: String?, memoryHigh: String?, memoryLow: String?, memorySwapMax: String?,
                              cpus: String?, cpuMax: String?, cpuWeight: String?, pidsMax: String?,
                              raw: [String]) throws -> ResourceLimits {
        var limits = ResourceLimits()
        limits.memoryMax = try limit(memoryMax, option: "--memory-max")
        limits.memoryHigh = try limit(memoryHigh, option: "--memory-high")
        limits.memoryLow = try limit(memoryLow, option: "--memory-low")
        limits.memorySwapMax = try limit(memorySwapMax, option: "--memory-swap-max")
        if cpus != nil && cpuMax != nil { throw CleaveError.message("--cpus and --cpu-max both set cpu.max: give one") }
        if let cpus {
            guard let value = Double(cpus.trimmed()), value.isFinite, value > 0, value <= 4096 else {
                throw CleaveError.message("--cpus: invalid value '\(cpus)': expected a positive number of CPUs such as 0.5 or 2")
            }
            limits.cpuMax = CPUMax(quota: UInt64((value * 100_000).rounded()), period: 100_000)
        }
        if let cpuMax {
            do { limits.cpuMax = try CPUMax.parse(cpuMax) } catch { throw CleaveError.wrapped(context: "--cpu-max", error) }
        }
        if let cpuWeight {
            guard let w = UInt64(cpuWeight.trimmed()), (1...10_000).contains(w) else {
                throw CleaveError.message("--cpu-weight: invalid value '\(cpuWeight)': expected a whole number from 1 to 10000")
            }
            limits.cpuWeight = w
        }
        if let pidsMax {
            let t = pidsMax.trimmed()
            if t == "max" { limits.pidsMax = .max } else if let n = UInt64(t), n > 0 { limits.pidsMax = .value(n) } else {
                throw CleaveError.message("--pids-max: invalid value '\(pidsMax)': expected a positive whole number or 'max'")
            }
        }
        for entry in raw {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw CleaveError.message("--set: '\(entry)' is not controller.param=value")
            }
            limits.unified[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        do { try limits.validate() } catch { throw CleaveError.wrapped(context: "--set", error) }
        return limits
    }
}
