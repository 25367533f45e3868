import CleaveCgroups
import Glibc
import CleaveSystem

/// The per-cgroup values a scrape exports. Each is nil when its file is
/// missing (controller off, cgroup gone) or unreadable: absent, never 0.
struct CgroupReadings: Sendable {
    var memoryCurrent: UInt64?
    var inactiveFile: UInt64?
    var cpuUsageUsec: UInt64?
    var oomKills: UInt64?

    var workingSet: UInt64? { CgroupStats.workingSet(current: memoryCurrent, inactiveFile: inactiveFile) }

    /// `memory`: whether the parent enables the memory controller for this
    /// cgroup (its memory.* files exist); skipping files known to be absent
    /// saves most of a scrape's path lookups where the controller is off.
    static func read(_ path: String, memory: Bool) -> CgroupReadings {
        var r = CgroupReadings()
        if memory {
            r.memoryCurrent = FileIO.read(path + "/memory.current").flatMap { UInt64($0.prefix { $0 != "\n" }) }
            if r.memoryCurrent != nil { r.inactiveFile = FileIO.read(path + "/memory.stat").flatMap { value(of: "inactive_file", in: $0) } }
            r.oomKills = FileIO.read(path + "/memory.events").flatMap { value(of: "oom_kill", in: $0) }
        }
        r.cpuUsageUsec = FileIO.read(path + "/cpu.stat").flatMap { value(of: "usage_usec", in: $0) }
        return r
    }

    static func singleValue(_ cgroup: Cgroup, _ name: String) -> UInt64? {
        FileIO.read(cgroup.path + "/" + name).flatMap { UInt64($0.prefix { $0 != "\n" }) }
    }

    static func keyed(_ cgroup: Cgroup, _ name: String, _ key: String) -> UInt64? {
        FileIO.read(cgroup.path + "/" + name).flatMap { value(of: key, in: $0) }
    }

    /// One key of a flat-keyed file ("key value" lines), without building a dictionary; nil
    /// for a file that is not one.
    static func value(of key: String, in text: String) -> UInt64? {
        try? StatParsers.flatKeyedValue(key, in: text)
    }

    /// The controllers a cgroup enables for its children (cgroup.subtree_control).
    static func subtreeControl(_ path: String) -> Set<Substring> {
        Set((FileIO.read(path + "/cgroup.subtree_control") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }))
    }
}
