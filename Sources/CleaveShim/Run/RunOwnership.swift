import CleaveCgroups

/// Where a run's OwnerLock lives: next to its record, `<id>-<supervisor pid>.lock`. The
/// record says what the run is; the lock, held by a live `cleave run` or its watcher,
/// says that it still owns its cgroup.
extension RunState {
    public static func lockPath(forRecord record: String) -> String {
        (record.hasSuffix(".json") ? String(record.dropLast(5)) : record) + ".lock"
    }
}
