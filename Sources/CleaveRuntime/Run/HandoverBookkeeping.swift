import CleaveCgroups
import CleaveSystem

extension TeardownWatcher {
    /// After a handover: what `cleave run` left out of the record to return at once, read
    /// while the helper still runs: the helpers' pids and the OOM kill count (cleave has
    /// already written the status and exit code, and oomKilled when the workload was SIGKILLed).
    package static func completeRecord(_ options: Options) {
        guard let pid = options.workloadPid else { return }
        let stats = (try? CgroupMount.discover()).flatMap { try? Cgroup(absolutePath: options.cgroupPath, mount: $0) }
            .flatMap { try? $0.stats() }
        for path in [options.runRecord, options.stateFile].compactMap({ $0 }) {
            guard var state = try? RunState.read(from: path), state.pid == pid else { continue }
            state.helperPids = TeardownHelpers.helpers(of: pid, among: stats?.processes ?? [])
            if state.oomKilled != true { state.oomKilled = stats?.oomKill.map { $0 > 0 } }
            try? state.write(to: path)
        }
    }
}
