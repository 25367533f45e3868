import CleaveCgroups
import CleaveSystem

extension TeardownWatcher {
    /// After a handover: what `cleave run` left out of the record to return at once: the
    /// workload's end as cleave reaped it, and, read while the helper still runs, the helpers'
    /// pids and the OOM kill count.
    package static func completeRecord(_ options: Options, handover: StandbyWatcher.Handover) {
        guard let pid = options.workloadPid else { return }
        let stats = (try? CgroupMount.discover()).flatMap { try? Cgroup(absolutePath: options.cgroupPath, mount: $0) }
            .flatMap { try? $0.exitStats() }
        for path in [options.runRecord, options.stateFile].compactMap({ $0 }) {
            guard var state = try? RunState.read(from: path), state.pid == pid else { continue }
            state.status = .stopped
            state.exitedAt = handover.exitedAt
            state.exitCode = handover.status.shellCode
            if case .signaled(let sig) = handover.status { state.signal = sig }
            state.helperPids = TeardownHelpers.helpers(of: pid, among: stats?.processes ?? [])
            state.oomKilled = handover.oomKilled ? true : stats?.oomKill.map { $0 > 0 }
            try? state.write(to: path)
        }
    }
}
