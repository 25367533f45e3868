import CleaveCgroups
import Glibc
import CleaveSystem

/// Where a run's OwnerLock lives: next to its record, `<id>-<supervisor pid>.lock`. The
/// record says what the run is; the lock, held by a live `cleave run` or its watcher,
/// says that it still owns its cgroup.
extension RunState {
    public static func lockPath(forRecord record: String) -> String {
        (record.hasSuffix(".json") ? String(record.dropLast(5)) : record) + ".lock"
    }

    /// `path` made absolute against the working directory: a cgroup's mark names the lock
    /// for readers anywhere (a relative CLEAVE_STATE_DIR would not).
    package static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(cString: buffer)
        return (cwd == "/" ? "" : cwd) + "/" + path
    }
}
