import CCleaveTeardown
import CleaveCgroups
import Glibc
import Logging
import CleaveSystem

/// The path from the reap to the return when a standby watcher waits (async teardown): two
/// small reads (cgroup.events; memory.events only after a SIGKILL, for the OOM message), the
/// --state-file when one was asked for, and one message to the watcher with the status.
/// Everything else (the run's record, the helpers' pids, statistics, waiting for the cgroup
/// and removing it) is the watcher's.
extension Runner {
    func startStandby(_ placement: CgroupSetup.Placement, workload: Int32, record: String) -> StandbyWatcher? {
        var options = TeardownWatcher.Options(cgroupPath: placement.cgroup.path, timeout: request.teardownTimeout,
                                              keepCgroup: request.keepCgroup, stateFile: request.stateFile, log: events)
        options.existing = !placement.owned
        options.mark = placement.mark
        options.record = request.keepCgroup ? nil : record
        options.lockPath = RunState.absolute(RunState.lockPath(forRecord: record))
        options.workloadPid = workload
        options.runRecord = record
        do {
            return try StandbyWatcher.start(options)
        } catch {
            // Not fatal: the watcher is then started after the exit, as without a standby.
            logger.debug("no standby watcher", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// False when the cgroup is already empty, gone or unreadable, or the watcher is gone:
    /// the caller then finishes the run itself (the full path, which also says why).
    func handOver(to standby: StandbyWatcher, status: ExitStatus, state: inout RunState, record: String,
                  cgroup: Cgroup, lock: OwnerLock) -> Bool {
        guard let text = try? cgroup.read("cgroup.events"),
              (try? StatParsers.flatKeyedValue("populated", in: text)) == 1 else { return false }
        if (try? StatParsers.flatKeyedValue("frozen", in: text)) == 1 {
            Console.warning("cgroup \(cgroup.path) is frozen (cgroup.freeze set outside cleave): its teardown cannot finish until it is thawed; the watcher kills it after --teardown-timeout (\(request.teardownTimeout.seconds) s)")
        }
        switch status {
        case .exited(let code): state.exitCode = code
        case .signaled(let sig): state.signal = sig; state.exitCode = status.shellCode
        }
        if case .signaled(SIGKILL) = status, let memory = try? cgroup.read("memory.events"),
           let kills = try? StatParsers.flatKeyedValue("oom_kill", in: memory), kills > 0 {
            Console.error("the workload was killed by the kernel's OOM killer (memory.events oom_kill \(kills), memory.max \(request.limits.memoryMax?.description ?? "unset"))")
            state.oomKilled = true
        }
        // A --state-file is the caller's to read the moment cleave returns: it gets the end now.
        // The run's record (under RunState.directory) gets it from the watcher.
        if let path = request.stateFile { try? state.write(to: path) }
        let handover = StandbyWatcher.Handover(status: status, exitedAt: state.exitedAt ?? Clock.wallSeconds(),
                                               oomKilled: state.oomKilled == true)
        return standby.handOver(handover, lock: lock)
    }
}

extension Runner {
    /// cleave's own exit unmaps its 34 MB image before the manager is told. A keeper holding
    /// the address space moves that after the manager's wake-up (cleave_exit_keeper.h): the
    /// manager waited 1.0-1.4 ms less after a long async run (1 GiB 4 KiB, 4 GiB THP,
    /// interleaved), about 0.1 ms less for a `/bin/true`. Started while the workload starts,
    /// off both paths. Not fatal: without it cleave's exit unmaps, as before.
    func startExitKeeper() {
        let pid = cleave_start_exit_keeper()
        if pid < 0 { logger.debug("no exit keeper", metadata: ["errno": "\(-pid)"]) }
    }
}
