import CCleaveContract

/// Recognises teardown helpers: processes named `cleanup/<pid>`, the name cleave's helper and
/// QEMU's `-async-teardown` helper both give themselves (the prefix is the C header's).
public enum TeardownHelpers {
    public static let prefix = CLEAVE_HELPER_NAME_PREFIX

    public static func isHelper(comm: String) -> Bool {
        comm.hasPrefix(prefix)
    }

    /// The workload pid a helper names, if it names one.
    public static func workloadPid(fromComm comm: String) -> Int32? {
        guard isHelper(comm: comm) else { return nil }
        return Int32(comm.dropFirst(prefix.count))
    }

    /// Helpers among `pids` (for example a cgroup's cgroup.procs).
    public static func helpers(among pids: [Int32]) -> [Int32] {
        pids.filter { pid in ProcFS.comm(pid).map(isHelper(comm:)) ?? false }
    }

    /// Helpers that name `workload` (comm is cut at 15 bytes, which still
    /// holds "cleanup/" and a 7-digit pid).
    public static func helpers(of workload: Int32, among pids: [Int32]) -> [Int32] {
        pids.filter { ProcFS.comm($0) == "\(prefix)\(workload)" }
    }
}
