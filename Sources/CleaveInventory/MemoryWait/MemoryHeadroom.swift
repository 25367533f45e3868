import CleaveCgroups
import CleaveRuntime
import CleaveSystem

/// How much memory a new workload below `parent` can have now: the smallest headroom among
/// `parent` and its ancestors that set memory.max, and the node's MemAvailable.
package struct MemoryHeadroom: Codable, Sendable, Equatable {
    /// memory.max − (memory.current − inactive_file) of the tightest limited ancestor; nil when none
    /// sets a limit. inactive_file is page cache the kernel reclaims before it would OOM-kill.
    package var cgroupHeadroom: UInt64?
    /// The cgroup that gave cgroupHeadroom.
    package var limitingCgroup: String?
    /// MemAvailable of /proc/meminfo; nil when it cannot be read.
    package var nodeAvailable: UInt64?

    package init(cgroupHeadroom: UInt64? = nil, limitingCgroup: String? = nil, nodeAvailable: UInt64? = nil) {
        self.cgroupHeadroom = cgroupHeadroom
        self.limitingCgroup = limitingCgroup
        self.nodeAvailable = nodeAvailable
    }

    /// The smaller of the two; UInt64.max when neither is known (nothing limits).
    package var available: UInt64 { min(cgroupHeadroom ?? .max, nodeAvailable ?? .max) }

    /// Ancestors that do not exist yet (cleave/ before the first run) are skipped; the root
    /// has no memory.max.
    package static func read(below parent: Cgroup, meminfo: String = "/proc/meminfo") throws -> MemoryHeadroom {
        var result = MemoryHeadroom(nodeAvailable: NodeMemory.read(path: meminfo)?.available)
        var cursor: Cgroup? = parent
        while let cgroup = cursor, !cgroup.relativePath.isEmpty {
            cursor = cgroup.parentCgroup
            guard let headroom = try headroom(of: cgroup) else { continue }
            if headroom < (result.cgroupHeadroom ?? .max) {
                result.cgroupHeadroom = headroom
                result.limitingCgroup = cgroup.path
            }
        }
        return result
    }

    /// nil: no limit ("max", or no memory controller in that cgroup).
    static func headroom(of cgroup: Cgroup) throws -> UInt64? {
        guard let maxText = try cgroup.read("memory.max") else { return nil }
        let limit: LimitValue
        do { limit = try ByteSize.parseLimit(maxText) } catch {
            throw CgroupError(operation: "parse", path: cgroup.path + "/memory.max", message: "\(error)")
        }
        guard case .value(let max) = limit else { return nil }
        guard let currentText = try cgroup.read("memory.current"), let current = UInt64(currentText.trimmed()) else {
            throw CgroupError(operation: "read", path: cgroup.path + "/memory.current", message: "missing or not a number")
        }
        var reclaimable: UInt64 = 0
        if let stat = try cgroup.read("memory.stat") {
            do { reclaimable = try StatParsers.flatKeyed(stat)["inactive_file"] ?? 0 } catch {
                throw CgroupError(operation: "parse", path: cgroup.path + "/memory.stat", message: "\(error)")
            }
        }
        let used = CgroupStats.workingSet(current: current, inactiveFile: reclaimable) ?? current
        return max > used ? max - used : 0
    }
}
