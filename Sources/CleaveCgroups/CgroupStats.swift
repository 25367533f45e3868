/// A cgroup's statistics. A field is nil when its file is missing (its
/// controller is not enabled), never a misleading 0.
public struct CgroupStats: Sendable, Codable, Equatable {
    public var memoryCurrent: UInt64?
    public var memoryPeak: UInt64?
    public var anon: UInt64?
    public var file: UInt64?
    public var inactiveFile: UInt64?
    public var oom: UInt64?
    public var oomKill: UInt64?
    public var cpuUsageUsec: UInt64?
    public var cpuUserUsec: UInt64?
    public var cpuSystemUsec: UInt64?
    public var pidsCurrent: UInt64?
    public var processes: [Int32] = []
    public var populated: Bool?

    public init() {}

    /// What kubelet and cAdvisor call the working set: memory.current -
    /// inactive_file, floored at 0.
    public var workingSet: UInt64? { Self.workingSet(current: memoryCurrent, inactiveFile: inactiveFile) }

    /// The one rule, for every reader: nil without memory.current; without inactive_file
    /// (memory.stat unreadable) all of memory.current counts, as cAdvisor does.
    public static func workingSet(current: UInt64?, inactiveFile: UInt64?) -> UInt64? {
        guard let current else { return nil }
        let inactive = inactiveFile ?? 0
        return current > inactive ? current - inactive : 0
    }
}

extension Cgroup {
    public func stats() throws -> CgroupStats {
        var s = try exitStats()
        func value(_ name: String) throws -> UInt64? {
            if case .value(let v)? = try singleValue(name) { return v }
            return nil
        }
        func keyed(_ name: String) throws -> [String: UInt64]? {
            guard let text = try read(name) else { return nil }
            return try flat(text, name)
        }
        s.memoryCurrent = try value("memory.current")
        s.memoryPeak = try value("memory.peak")
        if let m = try keyed("memory.stat") { s.anon = m["anon"]; s.file = m["file"]; s.inactiveFile = m["inactive_file"] }
        if let c = try keyed("cpu.stat") { s.cpuUsageUsec = c["usage_usec"]; s.cpuUserUsec = c["user_usec"]; s.cpuSystemUsec = c["system_usec"] }
        s.pidsCurrent = try value("pids.current")
        s.populated = try keyed("cgroup.events")?["populated"].map { $0 == 1 }
        return s
    }

    /// The larger of memory.peak and memory.current, nil when neither is readable: two small
    /// reads, for sampling a running workload and for the first reading at its exit, when the
    /// runtime may remove the cgroup at any moment.
    public func memoryHighWater() -> UInt64? {
        let readings = ["memory.peak", "memory.current"].compactMap { name -> UInt64? in
            guard case .value(let v)? = try? singleValue(name) else { return nil }
            return v
        }
        return readings.max()
    }

    /// A single-value file (a number or "max"); nil when absent, a CgroupError naming the file
    /// when it holds anything else.
    func singleValue(_ name: String) throws -> LimitValue? {
        guard let text = try read(name) else { return nil }
        do { return try StatParsers.singleValue(text) } catch let e as ParseError {
            throw CgroupError(operation: "parse", path: file(name), message: e.description)
        }
    }

    /// What a run's record needs once the workload is reaped: the OOM kill count (memory.events)
    /// and the processes left, its helper among them; `stats()` adds the rest (memory.stat,
    /// cpu.stat, ...), too much for a supervisor the manager is waiting for.
    public func exitStats() throws -> CgroupStats {
        var s = CgroupStats()
        if let text = try read("memory.events") {
            s.oom = try value("oom", of: text, "memory.events")
            s.oomKill = try value("oom_kill", of: text, "memory.events")
        }
        s.processes = try processes()
        return s
    }
}
