import CleaveSystem
/// One teardown: a populated cgroup whose every process is a teardown helper
/// (`cleanup/<pid>`, cleave's or QEMU's), from when the agent saw it begin to
/// when the cgroup emptied.
package struct TeardownRecord: Codable, Sendable, Equatable {
    package enum State: String, Codable, Sendable {
        /// Populated, helpers only.
        case inProgress = "in_progress"
        /// The cgroup emptied (populated 0) or was removed.
        case completed
        /// A process other than a helper appeared in the cgroup again.
        case aborted
    }

    /// Path below the cgroup2 mount, with a leading "/".
    package var cgroup: String
    package var state: State
    /// The helpers' pids when the teardown was recognised.
    package var helpers: [Int32]
    /// Unix time, seconds.
    package var beganAt: Double
    package var endedAt: Double?
    package var durationSeconds: Double?
    /// memory.current when the teardown was recognised; nil without the memory controller.
    package var memoryAtBeginBytes: UInt64?
    /// True once the teardown has run longer than the agent's teardown timeout.
    package var timedOut: Bool

    /// CLOCK_MONOTONIC at the beginning, for the duration; not encoded.
    var beganMonotonicNanos: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case cgroup, state, helpers, beganAt = "began_at", endedAt = "ended_at", durationSeconds = "duration_seconds"
        case memoryAtBeginBytes = "memory_at_begin_bytes", timedOut = "timed_out"
    }

    package init(cgroup: String, helpers: [Int32], beganAt: Double, beganMonotonicNanos: UInt64, memoryAtBeginBytes: UInt64?) {
        self.cgroup = cgroup
        self.state = .inProgress
        self.helpers = helpers
        self.beganAt = beganAt
        self.beganMonotonicNanos = beganMonotonicNanos
        self.memoryAtBeginBytes = memoryAtBeginBytes
        self.timedOut = false
    }
}

/// The body of /v1/teardowns.
package struct TeardownsDocument: Codable, Sendable {
    package var inProgress: [TeardownRecord]
    package var recent: [TeardownRecord]
    package var teardownsTotal: Int
    package var timeoutsTotal: Int

    enum CodingKeys: String, CodingKey {
        case inProgress = "in_progress", recent, teardownsTotal = "teardowns_total", timeoutsTotal = "timeouts_total"
    }
}
