/// The teardowns in progress and the recently finished ones. A value type
/// with the clock passed in, so the watcher thread drives it and tests can
/// step it; AgentState guards the shared instance.
public struct TeardownTracker: Sendable {
    public private(set) var inProgress: [String: TeardownRecord] = [:]
    /// Finished teardowns, newest last, at most `recentLimit`.
    public private(set) var recent: [TeardownRecord] = []
    public private(set) var completedCount = 0
    public private(set) var timeoutCount = 0
    public let recentLimit: Int
    public var timeoutNanos: UInt64

    public init(timeout: Duration, recentLimit: Int = 100) {
        self.timeoutNanos = Self.nanos(timeout)
        self.recentLimit = recentLimit
    }

    static func nanos(_ d: Duration) -> UInt64 {
        let c = d.components
        return UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000)
    }

    public func isInProgress(_ cgroup: String) -> Bool { inProgress[cgroup] != nil }

    /// false when that cgroup's teardown was already in progress.
    @discardableResult
    public mutating func begin(_ record: TeardownRecord) -> Bool {
        guard inProgress[record.cgroup] == nil else { return false }
        inProgress[record.cgroup] = record
        return true
    }

    /// Ends a teardown; returns the finished record (nil if none was in progress).
    @discardableResult
    public mutating func end(_ cgroup: String, state: TeardownRecord.State, wallSeconds: Double, monotonicNanos: UInt64) -> TeardownRecord? {
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
    public mutating func drop(_ cgroup: String) {
        inProgress[cgroup] = nil
    }

    /// Marks teardowns that have run past the timeout; returns the newly timed-out ones.
    public mutating func markTimeouts(monotonicNanos now: UInt64) -> [TeardownRecord] {
        var newly = [TeardownRecord]()
        for (key, record) in inProgress where !record.timedOut && now &- record.beganMonotonicNanos > timeoutNanos {
            inProgress[key]?.timedOut = true
            timeoutCount += 1
            newly.append(inProgress[key]!)
        }
        return newly
    }

    public var document: TeardownsDocument {
        TeardownsDocument(inProgress: inProgress.values.sorted { $0.beganAt < $1.beganAt }, recent: recent,
                          teardownsTotal: completedCount, timeoutsTotal: timeoutCount)
    }
}
