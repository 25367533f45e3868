import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// Holds teardown helpers still across the workload's reap: they are moved
/// into a child cgroup and frozen there. A SIGSTOP is not reliable (an
/// orphaned stopped process group gets SIGHUP and SIGCONT from the kernel),
/// and moving a process does not move its memory charge, so the workload's
/// cgroup still accounts everything, hierarchically.
struct HeldHelpers {
    let cgroup: Cgroup

    init(_ helpers: [Int32], in parent: Cgroup) throws {
        cgroup = try Cgroup(mount: parent.mount, path: parent.relativePath + "/held")
        try cgroup.create()
        for pid in helpers { try cgroup.write("cgroup.procs", String(pid)) }
        try cgroup.freeze(true)
        try Self.waitFrozen(cgroup)
    }

    func release() throws {
        try cgroup.freeze(false)
    }

    /// cgroup.events says "frozen 1" once every task has stopped.
    private static func waitFrozen(_ cgroup: Cgroup) throws {
        for _ in 0..<2000 {
            if let events = try cgroup.read("cgroup.events"),
               (try? StatParsers.flatKeyed(events))?["frozen"] == 1 { return }
            usleepMilliseconds(1)
        }
        throw CleaveError.message("the helper's cgroup \(cgroup.path) did not freeze within 2 s")
    }
}

/// Test-only faults: each must make verify fail, naming the right check.
enum FaultInjector {
    static func inject(_ fault: VerifyFault?, helpers: [Int32], cgroup: Cgroup, extra: inout [Cgroup]) throws {
        guard let fault else { return }
        switch fault {
        case .helperKilled:
            for pid in helpers { kill(pid, SIGKILL) }
            for pid in helpers {
                for _ in 0..<5000 where ProcFS.isAlive(pid) { usleepMilliseconds(1) }
            }
        case .helperOutside:
            guard let parent = cgroup.parentCgroup else { return }
            let outside = try Cgroup(mount: cgroup.mount, path: parent.relativePath + "/outside-" + (cgroup.relativePath.split(separator: "/").last.map(String.init) ?? "x"))
            try outside.create()
            extra.append(outside)
            for pid in helpers { try outside.write("cgroup.procs", String(pid)) }
        }
    }
}
