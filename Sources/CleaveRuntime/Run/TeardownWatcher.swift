import CCleaveSpawn
import CCleaveSystem
import CleaveCgroups
import Glibc
import CleaveSystem

/// Removes a workload's cgroup once its teardown helper has finished.
///
/// It runs as a small detached process (its own process group in cleave's
/// session, outside the workload's cgroup, stdio on /dev/null) so `cleave run`
/// can return the moment the workload is reaped. Nothing is killed before the timeout: the
/// helper is what frees the memory, and killing it would defeat that.
public enum TeardownWatcher {
    public struct Options: Sendable {
        public var cgroupPath: String     // absolute
        public var timeout: Duration
        public var keepCgroup: Bool
        public var stateFile: String?
        public var log: EventLog
        /// The run's record under RunState.directory, removed when the watch ends.
        public var record: String?
        /// The cgroup existed before the run: never killed nor removed, only its mark released.
        public var existing = false
        /// The run's mark on the cgroup: the watcher acts only while the cgroup still bears it
        /// (nil: cgroupfs keeps no attributes).
        public var mark: OwnerMark?
        /// The run's OwnerLock file, held through the inherited descriptor 3 (or the one the
        /// handover brings) and removed at the end.
        public var lockPath: String?
        /// Standby (StandbyWatcher): the workload, whose helpers the watcher records in
        /// `runRecord` (and the --state-file) once it has the run.
        public var workloadPid: Int32?
        public var runRecord: String?

        public init(cgroupPath: String, timeout: Duration, keepCgroup: Bool, stateFile: String?, log: EventLog) {
            self.cgroupPath = cgroupPath; self.timeout = timeout; self.keepCgroup = keepCgroup
            self.stateFile = stateFile; self.log = log
        }
    }

    /// Starts `cleave __watch-teardown ...` detached, holding the run's lock as its
    /// descriptor 3 (the lock, shared with the supervisor's open file, outlives cleave).
    /// Returns its pid.
    @discardableResult
    public static func launch(_ options: Options, lock: OwnerLock) throws -> Int32 {
        try DetachedProcess.spawn(try arguments(options) + ["--lock", lock.path], detachment: .ownProcessGroup,
                                 passing: lock.descriptor)
    }

    /// The watcher's body. Returns true when the teardown finished in time.
    @discardableResult
    public static func watch(_ options: Options) -> Bool {
        let started = Clock.monotonicNanoseconds()
        let mount: CgroupMount
        let cgroup: Cgroup
        do {
            mount = try CgroupMount.discover()
            cgroup = try Cgroup(absolutePath: options.cgroupPath, mount: mount)
        } catch {
            options.log.append("watch-error", cgroup: options.cgroupPath, message: "\(error)")
            return false
        }
        let emptied = (try? cgroup.waitUntilEmpty(timeout: options.timeout)) ?? !cgroup.exists
        let waited = Double(Clock.monotonicNanoseconds() - started) / 1e9
        var timedOut = false
        // Removed and made again by someone else meanwhile: not ours any more.
        let stillOurs = options.mark.map { cgroup.ownerMark() == $0 } ?? true
        let mayKill = !options.existing && stillOurs
        let mayRemove = mayKill && !options.keepCgroup
        if emptied {
            options.log.append("teardown-finished", cgroup: options.cgroupPath,
                               message: "cgroup empty after \(Int(waited * 1000)) ms", seconds: waited)
            if mayRemove { remove(cgroup, kill: false, options: options) }
        } else {
            timedOut = true
            let action = mayRemove ? "killing the cgroup"
                : mayKill ? "killing its processes; the cgroup is kept (--keep-cgroup)"
                : options.existing ? "left alone: the cgroup existed before the run, cleave neither kills nor removes it"
                : "left alone: the cgroup no longer bears this run's mark"
            options.log.append("teardown-timeout", cgroup: options.cgroupPath,
                               message: "still populated after --teardown-timeout (\(options.timeout.seconds) s): \(action)",
                               seconds: waited)
            if mayRemove {
                remove(cgroup, kill: true, options: options)
            } else if mayKill {
                do {
                    try cgroup.kill()
                    _ = try cgroup.waitUntilEmpty(timeout: .seconds(10))
                    options.log.append("cgroup-killed", cgroup: options.cgroupPath, message: "killed; kept (--keep-cgroup)")
                } catch {
                    options.log.append("kill-error", cgroup: options.cgroupPath, message: "\(error)")
                }
            }
        }
        // Kept or existing: no longer cleave's. A removal that failed keeps the mark for gc.
        if let mark = options.mark, !mayRemove { cgroup.releaseMark(mark) }
        if let stateFile = options.stateFile, var state = try? RunState.read(from: stateFile) {
            state.teardownTimedOut = timedOut
            if !cgroup.exists { state.status = .removed; state.cgroupRemovedAt = Clock.wallSeconds() }
            try? state.write(to: stateFile)
        }
        // A cgroup that could not be removed keeps its record and its mark, for `cleave gc`.
        if let record = options.record, !mayRemove || !cgroup.exists { unlink(record) }
        if let lock = options.lockPath { unlink(lock) }
        return !timedOut
    }

    /// Kills (cgroup.kill: the whole subtree) and removes the run's cgroup; never a child
    /// cgroup cleave did not make: one found inside leaves the cgroup in place.
    private static func remove(_ cgroup: Cgroup, kill: Bool, options: Options) {
        do {
            if kill {
                try cgroup.kill()
                _ = try cgroup.waitUntilEmpty(timeout: .seconds(10))
            }
            if let children = try? cgroup.children(), !children.isEmpty {
                throw CleaveError.message("\(cgroup.path) has \(children.count) child cgroup(s) cleave did not create (\(children.prefix(3).map(\.path).joined(separator: ", "))): left in place")
            }
            try cgroup.remove(killFirst: false, timeout: .seconds(10))
            options.log.append("cgroup-removed", cgroup: options.cgroupPath, message: kill ? "killed and removed" : "removed")
        } catch {
            options.log.append("remove-error", cgroup: options.cgroupPath, message: "\(error)")
        }
    }
}
