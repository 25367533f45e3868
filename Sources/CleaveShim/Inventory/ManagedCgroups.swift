import CleaveCgroups
import Glibc

/// The cgroups cleave manages (below its parent cgroup), with what `cleave ps`
/// and `cleave gc` need to know about each.
public struct ManagedCgroup: Codable, Sendable {
    public enum State: String, Codable, Sendable {
        case running
        /// Only teardown helpers are left: memory is being released.
        case tearingDown = "tearing down"
        case empty
    }

    public var path: String
    public var state: State
    public var pids: [Int32]
    public var helperPids: [Int32]
    public var memoryCurrent: UInt64?
    public var ageSeconds: Double?
}

public enum ManagedCgroups {
    public static func list(parent: String = "cleave", mount: CgroupMount) throws -> [ManagedCgroup] {
        let root = try Cgroup(mount: mount, path: parent)
        guard root.exists else { return [] }
        var result = [ManagedCgroup]()
        var queue = (try? root.children()) ?? []
        while let cgroup = queue.popLast() {
            queue += (try? cgroup.children()) ?? []
            if let entry = describe(cgroup) { result.append(entry) }
        }
        return result.sorted { $0.path < $1.path }
    }

    /// nil when the cgroup vanished while it was being read.
    public static func describe(_ cgroup: Cgroup) -> ManagedCgroup? {
        guard let pids = try? cgroup.processes() else { return nil }
        let helpers = TeardownHelpers.helpers(among: pids)
        let state: ManagedCgroup.State = pids.isEmpty ? .empty : (helpers.count == pids.count ? .tearingDown : .running)
        var st = stat()
        let age: Double? = stat(cgroup.path, &st) == 0
            ? max(0, Clock.wallSeconds() - (Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9)) : nil
        let memory = (try? cgroup.read("memory.current")).flatMap { $0 }.flatMap { UInt64($0.trimmed()) }
        return ManagedCgroup(path: cgroup.path, state: state, pids: pids, helperPids: helpers,
                             memoryCurrent: memory, ageSeconds: age)
    }
}
