import CleaveSystem
/// The teardowns in progress and the recently finished ones. A value type
/// with the clock passed in, so the watcher thread drives it and tests can
/// step it; AgentState guards the shared instance.
package struct TeardownTracker: Sendable {
    package private(set) var inProgress: [String: TeardownRecord] = [:]
    /// Finished teardowns, newest last, at most `recentLimit`.
    package private(set) var recent: [TeardownRecord] = []
    package private(set) var completedCount = 0
    package private(set) var timeoutCount = 0
    package let recentLimit: Int
    package var timeoutNanos: UInt64

    package init(timeout: Duration, recentLimit: Int = 100) {
        self.timeoutNanos = timeout.nanosecondsSaturating
        self.recentLimit = recentLimit
    }

    package func isInProgress(_ cgroup: String) -> Bool { inProgress[cgroup] != nil }

    /// false when that cgroup's teardown was already in progress.
    @discardableResult
    package mutating func begin(_ record: TeardownRecord) -> Bool {
        guard inProgress[record.cgroup] == nil else { return false }
        inProgress[record.cgroup] = record
        return true
    }

    /// Ends a teardown; returns the finished record (nil if none was in progress).
    @discardableResult
    package mutating func end(_ cgroup: String, state: TeardownRecord.State, wallSeconds: Double, monotonicNanos: UInt64) -> TeardownRecord? {
        guard var record = inProgress.removeValue(forKey: cgroup) else { return nil }
        record.state = state
        record.endedAt = wallSeconds
        record.durationSeconds = Double(monotonicNanos &- record.beganMonotonicNanos) / 1e9
        if state == .completed { completedCount += 1 }
        recent.append(record)
        if recent.count > recentLimit { recent.removeFirst(recent.count - recentLimit) }
        return record
    }

    /// Forgets a teardown without counting it (an ancestor's teardown covers it).
    package mutating func drop(_ cgroup: String) {
        inProgress[cgroup] = nil
    }

    /// Marks teardowns that have run past the timeout; returns the newly timed-out ones.
    package mutating func markTimeouts(monotonicNanos now: UInt64) -> [TeardownRecord] {
        var newly = [TeardownRecord]()
        for (key, record) in inProgress where !record.timedOut && now &- record.beganMonotonicNanos > timeoutNanos {
            inProgress[key]?.timedOut = true
            timeoutCount += 1
            newly.append(inProgress[key]!)
        }
        return newly
    }

    package var document: TeardownsDocument {
        TeardownsDocument(inProgress: inProgress.values.sorted { $0.beganAt < $1.beganAt }, recent: recent,
                          teardownsTotal: completedCount, timeoutsTotal: timeoutCount)
    }
}
