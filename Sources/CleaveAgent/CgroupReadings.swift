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

    /// `memory`: whether the parent enables the memory controller for this
    /// cgroup (its memory.* files exist); skipping files known to be absent
    /// saves most of a scrape's path lookups where the controller is off.
    static func read(_ path: String, memory: Bool) -> CgroupReadings {
        var r = CgroupReadings()
        if memory {
            r.memoryCurrent = readFile(path + "/memory.current").flatMap { UInt64($0.prefix { $0 != "\n" }) }
            if r.memoryCurrent != nil { r.inactiveFile = readFile(path + "/memory.stat").flatMap { value(of: "inactive_file", in: $0) } }
            r.oomKills = readFile(path + "/memory.events").flatMap { value(of: "oom_kill", in: $0) }
        }
        r.cpuUsageUsec = readFile(path + "/cpu.stat").flatMap { value(of: "usage_usec", in: $0) }
        return r
    }

    static func singleValue(_ cgroup: Cgroup, _ name: String) -> UInt64? {
        readFile(cgroup.path + "/" + name).flatMap { UInt64($0.prefix { $0 != "\n" }) }
    }

    static func keyed(_ cgroup: Cgroup, _ name: String, _ key: String) -> UInt64? {
        readFile(cgroup.path + "/" + name).flatMap { value(of: key, in: $0) }
    }

    /// One key of a flat-keyed file ("key value" lines), without building a dictionary.
    static func value(of key: String, in text: String) -> UInt64? {
        for line in text.split(separator: "\n") {
            guard line.hasPrefix(key), let space = line.firstIndex(of: " "), line[..<space] == key else { continue }
            return UInt64(line[line.index(after: space)...])
        }
        return nil
    }

    /// A small file (cgroupfs files are a few KiB at most) read with a stack
    /// buffer; nil when it is missing or unreadable.
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16384) { buf -> String? in
            var used = 0
            while used < buf.count {
                let n = Glibc.read(fd, buf.baseAddress! + used, buf.count - used)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return nil }
                if n == 0 { break }
                used += n
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<used]), as: UTF8.self)
        }
    }

    /// The controllers a cgroup enables for its children (cgroup.subtree_control).
    static func subtreeControl(_ path: String) -> Set<Substring> {
        Set((readFile(path + "/cgroup.subtree_control") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }))
    }
}
