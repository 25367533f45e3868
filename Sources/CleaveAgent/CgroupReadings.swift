import CleaveCgroups
import Glibc

/// The per-cgroup values a scrape exports. Each is nil when its file is
/// missing (controller off, cgroup gone) or unreadable: absent, never 0.
struct CgroupReadings: Sendable {
    var memoryCurrent: UInt64?
    var inactiveFile: UInt64?
    var cpuUsageUsec: UInt64?
    var oomKills: UInt64?

    /// memory.current - inactive_file, floored at 0 (kubelet, cAdvisor).
    var workingSet: UInt64? {
        guard let current = memoryCurrent, let inactive = inactiveFile else { return nil }
        return current > inactive ? current - inactive : 0
    }

    static func read(_ cgroup: Cgroup) -> CgroupReadings {
        var r = CgroupReadings()
        r.memoryCurrent = singleValue(cgroup, "memory.current")
        if r.memoryCurrent != nil { r.inactiveFile = keyed(cgroup, "memory.stat", "inactive_file") }
        r.cpuUsageUsec = keyed(cgroup, "cpu.stat", "usage_usec")
        r.oomKills = keyed(cgroup, "memory.events", "oom_kill")
        return r
    }

    static func singleValue(_ cgroup: Cgroup, _ name: String) -> UInt64? {
        guard let text = try? cgroup.read(name), case .value(let v)? = try? StatParsers.singleValue(text) else { return nil }
        return v
    }

    /// One key of a flat-keyed file, found without building a dictionary.
    static func keyed(_ cgroup: Cgroup, _ name: String, _ key: String) -> UInt64? {
        guard let text = try? cgroup.read(name) else { return nil }
        for line in text.split(separator: "\n") {
            guard line.hasPrefix(key), let space = line.firstIndex(of: " "), line[..<space] == key else { continue }
            return UInt64(line[line.index(after: space)...])
        }
        return nil
    }
}
