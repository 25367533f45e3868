import CleaveSystem

/// What the agent needs of /proc: a process's name, to tell teardown helpers from workloads
/// (the rule is TeardownHelpers'), and whether a pid still runs. Every reader returns nil for
/// a process that is gone. `procRoot` is /proc, or the host's /proc mounted elsewhere in a
/// container.
struct HelperProcesses: Sendable {
    var procRoot = "/proc"

    func comm(_ pid: Int32) -> String? {
        FileIO.read("\(procRoot)/\(pid)/comm", limit: 64).map { String($0.prefix { $0 != "\n" }) }
    }

    /// Alive and not a zombie.
    func isRunning(_ pid: Int32) -> Bool {
        guard let stat = FileIO.read("\(procRoot)/\(pid)/stat", limit: 512), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[close...].dropFirst(2).first
        return state != nil && state != "Z" && state != "X"
    }
}
