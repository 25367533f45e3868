import CCleaveSystem
import Glibc

extension Cgroup {
    /// The kill for kernels without cgroup.kill (before 5.14). A pid read from
    /// cgroup.procs may have exited and been reused by then, so each one is pinned with a
    /// pidfd and signalled only once /proc says that process is in this subtree. The
    /// cgroup is frozen first (when it can be, 5.2+) so nothing in it forks meanwhile;
    /// SIGKILL still ends frozen tasks. `listing` is for tests (default: the subtree's
    /// cgroup.procs).
    func killEachProcess(listing: (() -> [Int32])? = nil) throws {
        var froze = false
        if access(file("cgroup.freeze"), F_OK) == 0, (try? read("cgroup.freeze"))??.hasPrefix("0") == true {
            froze = (try? freeze(true)) != nil
        }
        defer { if froze && exists { try? freeze(false) } }
        let list = listing ?? { subtreeProcesses() }
        for _ in 0..<200 {
            let pids = list()
            if pids.isEmpty || !((try? isPopulated()) ?? false) { return }
            for pid in pids { signalIfMember(pid, SIGKILL) }
            usleep(5000)
        }
    }

    /// Signals `pid` through a pidfd only if that process is in this cgroup or below.
    @discardableResult
    func signalIfMember(_ pid: Int32, _ signal: Int32) -> Bool {
        let pidfd = cleave_pidfd_open(pid)
        guard pidfd >= 0 else { return false }   // gone (ESRCH)
        defer { close(pidfd) }
        // The pidfd pins the process: what /proc says now is about the one we will signal.
        guard let where_ = try? Cgroup.ofProcess(pid, mount: mount),
              where_ == self || where_.relativePath.utf8.starts(with: (relativePath + "/").utf8) else { return false }
        return cleave_pidfd_send_signal(pidfd, signal) == 0
    }

    /// The processes of this cgroup and every cgroup below it.
    func subtreeProcesses() -> [Int32] {
        var queue = [self], pids = [Int32]()
        while let cgroup = queue.popLast() {
            pids += (try? cgroup.processes()) ?? []
            queue += (try? cgroup.children()) ?? []
        }
        return pids
    }
}
