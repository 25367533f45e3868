import CCleaveContract
import CCleaveSystem
import Glibc

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

    /// Waits up to `bound` for every process in `pids` to exit, each on a pidfd. A pid that
    /// is gone already costs nothing; one recycled since costs at most the bound (nothing is
    /// ever sent to it). True when all of them have ended within the bound.
    public static func waitForExit(of pids: [Int32], within bound: Duration) -> Bool {
        let deadline = Clock.deadline(after: bound)
        for pid in pids {
            let pidfd = cleave_pidfd_open(pid)
            if pidfd < 0 { continue }   // ESRCH: already gone
            defer { close(pidfd) }
            let now = Clock.monotonicNanoseconds()
            if now >= deadline || cleave_pidfd_wait(pidfd, deadline - now) != 1 { return false }
        }
        return true
    }
}
