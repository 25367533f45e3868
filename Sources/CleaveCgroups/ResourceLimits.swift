/// A limit file's value: a number or "max".
public enum LimitValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case max
    case value(UInt64)

    public var description: String {
        switch self {
        case .max: return "max"
        case .value(let v): return String(v)
        }
    }
}

/// cpu.max: "<quota|max> <period>".
public struct CPUMax: Sendable, Equatable, Codable {
    /// nil means no quota ("max").
    public var quota: UInt64?
    public var period: UInt64

    public init(quota: UInt64?, period: UInt64 = 100_000) {
        self.quota = quota
        self.period = period
    }

    public static func parse(_ text: String) throws -> CPUMax {
        let parts = text.trimmedLine.split(separator: " ")
        guard (1...2).contains(parts.count) else { throw ParseError(text, "expected \"QUOTA PERIOD\", \"max PERIOD\" or \"QUOTA\"") }
        let quota: UInt64?
        if parts[0] == "max" { quota = nil } else {
            guard let q = UInt64(parts[0]), q > 0 else { throw ParseError(text, "quota '\(parts[0])' is not a positive whole number or 'max'") }
            quota = q
        }
        var period: UInt64 = 100_000
        if parts.count == 2 {
            guard let p = UInt64(parts[1]), (1000...1_000_000).contains(p) else {
                throw ParseError(text, "period '\(parts[1])' must be a whole number of microseconds from 1000 to 1000000")
            }
            period = p
        }
        return CPUMax(quota: quota, period: period)
    }

    public var fileValue: String { "\(quota.map(String.init) ?? "max") \(period)" }
}

/// Limits of one cgroup, by cgroup v2 file. nil leaves a file as it is.
public struct ResourceLimits: Sendable, Equatable, Codable {
    public var memoryMax: LimitValue?
    public var memoryHigh: LimitValue?
    public var memoryLow: LimitValue?
    public var memorySwapMax: LimitValue?
    public var cpuMax: CPUMax?
    /// 1...10000.
    public var cpuWeight: UInt64?
    public var pidsMax: LimitValue?
    /// Raw "controller.param" file -> value.
    public var unified: [String: String]

    public init(memoryMax: LimitValue? = nil, memoryHigh: LimitValue? = nil, memoryLow: LimitValue? = nil,
                memorySwapMax: LimitValue? = nil, cpuMax: CPUMax? = nil, cpuWeight: UInt64? = nil,
                pidsMax: LimitValue? = nil, unified: [String: String] = [:]) {
        self.memoryMax = memoryMax; self.memoryHigh = memoryHigh; self.memoryLow = memoryLow
        self.memorySwapMax = memorySwapMax; self.cpuMax = cpuMax; self.cpuWeight = cpuWeight
        self.pidsMax = pidsMax; self.unified = unified
    }

    public var isEmpty: Bool { self == ResourceLimits() }

    /// The controllers these limits need enabled on the way down.
    public var requiredControllers: ControllerSet {
        var c: ControllerSet = []
        if memoryMax != nil || memoryHigh != nil || memoryLow != nil || memorySwapMax != nil { c.insert("memory") }
        if cpuMax != nil || cpuWeight != nil { c.insert("cpu") }
        if pidsMax != nil { c.insert("pids") }
        for key in unified.keys {
            if let dot = key.firstIndex(of: "."), key[..<dot] != "cgroup" { c.insert(String(key[..<dot])) }
        }
        return c
    }

    /// The files and values to write, in a safe order (swap after memory.max).
    public var fileValues: [(String, String)] {
        var files = [(String, String)]()
        if let v = memoryLow { files.append(("memory.low", v.description)) }
        if let v = memoryHigh { files.append(("memory.high", v.description)) }
        if let v = memoryMax { files.append(("memory.max", v.description)) }
        if let v = memorySwapMax { files.append(("memory.swap.max", v.description)) }
        if let v = cpuMax { files.append(("cpu.max", v.fileValue)) }
        if let v = cpuWeight { files.append(("cpu.weight", String(v))) }
        if let v = pidsMax { files.append(("pids.max", v.description)) }
        for key in unified.keys.sorted() { files.append((key, unified[key] ?? "")) }
        return files
    }

    public func validate() throws {
        if let w = cpuWeight, !(1...10_000).contains(w) {
            throw ParseError(String(w), "cpu.weight must be from 1 to 10000")
        }
        for (key, value) in unified {
            // Bytes: a "/" followed by a combining mark is one Character and hides from contains("/").
            guard !key.utf8.contains(UInt8(ascii: "/")), !key.utf8.contains(0) else { throw ParseError(key, "a unified key is a file name and may not contain '/'") }
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else {
                throw ParseError(key, "a unified key must be controller.param, e.g. memory.high")
            }
            // Core files are not limits: writing them moves, kills or reshapes processes and cgroups.
            guard !key.hasPrefix("cgroup.") else {
                throw ParseError(key, "cgroup.* files are not limits and cannot be set this way")
            }
            guard !value.utf8.contains(0) else { throw ParseError(value, "value of \(key) contains a NUL byte") }
        }
    }
}

extension Cgroup {
    /// Writes every set limit. Errors name the file and the errno (e.g. an
    /// absent controller's file: ENOENT).
    public func apply(_ limits: ResourceLimits) throws {
        try limits.validate()
        for (name, value) in limits.fileValues {
            if limits.unified[name] != nil, try read(name) == nil {
                let controller = name.split(separator: ".").first.map(String.init) ?? name
                throw CgroupError(operation: "write", path: file(name),
                                  message: "no such file: controller '\(controller)' is not enabled for this cgroup or does not exist")
            }
            try write(name, value)
        }
    }

    /// What the limit files hold now; absent files give nil.
    public func readLimits() throws -> ResourceLimits {
        func limit(_ name: String) throws -> LimitValue? { try singleValue(name) }
        var l = ResourceLimits()
        l.memoryMax = try limit("memory.max")
        l.memoryHigh = try limit("memory.high")
        l.memoryLow = try limit("memory.low")
        l.memorySwapMax = try limit("memory.swap.max")
        if let text = try read("cpu.max") {
            do { l.cpuMax = try CPUMax.parse(text) } catch let e as ParseError {
                throw CgroupError(operation: "parse", path: file("cpu.max"), message: e.description)
            }
        }
        if let text = try read("cpu.weight") { l.cpuWeight = UInt64(text.trimmedLine) }
        l.pidsMax = try limit("pids.max")
        return l
    }
}
