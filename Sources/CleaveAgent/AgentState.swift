import Glibc
import Prometheus
import Synchronization
import CleaveSystem

/// What the watcher thread publishes and the HTTP handlers read: the watched
/// cgroups, the teardown tracker, readiness and a heartbeat. The counters
/// and the histogram live in `registry`, which outlives every scrape.
package final class AgentState: Sendable {
    struct Shared: Sendable {
        var watched: [String] = []
        var roots: [String] = []
        var tracker: TeardownTracker
        var ready = false
        var heartbeatNanos: UInt64 = 0
    }

    let shared: Mutex<Shared>
    let registry = PrometheusCollectorRegistry()
    let teardownsTotal: Counter
    let timeoutsTotal: Counter
    let durations: DurationHistogram

    package static let durationBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        .seconds(60), .seconds(120), .seconds(300), .seconds(600),
    ]

    package init(teardownTimeout: Duration) {
        shared = Mutex(Shared(tracker: TeardownTracker(timeout: teardownTimeout)))
        teardownsTotal = registry.makeCounter(
            name: "cleave_teardowns_total", help: "Teardowns that finished: the cgroup emptied after only teardown helpers were left in it.")
        timeoutsTotal = registry.makeCounter(
            name: "cleave_teardown_timeouts_total", help: "Teardowns that ran longer than the agent's teardown timeout (--teardown-timeout).")
        durations = registry.makeDurationHistogram(
            name: "cleave_teardown_duration_seconds", buckets: Self.durationBuckets,
            help: "Time from the start of a teardown (only helpers left) to the cgroup emptying.")
    }

    func publishWatched(_ watched: [String], roots: [String]) {
        shared.withLock { $0.watched = watched; $0.roots = roots }
    }

    func setReady() { shared.withLock { $0.ready = true } }
    func beat() { let now = Clock.monotonicNanoseconds(); shared.withLock { $0.heartbeatNanos = now } }

    var isReady: Bool { shared.withLock { $0.ready } }
    /// Nanoseconds since the watcher thread last went round its loop.
    var heartbeatAgeNanos: UInt64 {
        let last = shared.withLock { $0.heartbeatNanos }
        return Clock.monotonicNanoseconds() &- last
    }

    func isInTeardown(_ cgroup: String) -> Bool { shared.withLock { $0.tracker.isInProgress(cgroup) } }

    @discardableResult
    func beginTeardown(_ record: TeardownRecord) -> Bool { shared.withLock { $0.tracker.begin(record) } }

    func dropTeardown(_ cgroup: String) { shared.withLock { $0.tracker.drop(cgroup) } }

    @discardableResult
    func endTeardown(_ cgroup: String, state: TeardownRecord.State) -> TeardownRecord? {
        let wall = Clock.wallSeconds(), mono = Clock.monotonicNanoseconds()
        guard let record = shared.withLock({ $0.tracker.end(cgroup, state: state, wallSeconds: wall, monotonicNanos: mono) }) else { return nil }
        if state == .completed {
            teardownsTotal.increment()
            durations.record(.nanoseconds(Int64(clamping: mono &- record.beganMonotonicNanos)))
        }
        return record
    }

    func markTimeouts() -> [TeardownRecord] {
        let now = Clock.monotonicNanoseconds()
        let newly = shared.withLock { $0.tracker.markTimeouts(monotonicNanos: now) }
        if !newly.isEmpty { timeoutsTotal.increment(by: Int64(newly.count)) }
        return newly
    }

    func inProgressCgroups() -> [String] { shared.withLock { Array($0.tracker.inProgress.keys) } }

    package var teardowns: TeardownsDocument { shared.withLock { $0.tracker.document } }

    struct Snapshot { var watched: [String]; var roots: [String]; var teardowns: [TeardownRecord] }
    func snapshot() -> Snapshot {
        shared.withLock { Snapshot(watched: $0.watched, roots: $0.roots, teardowns: Array($0.tracker.inProgress.values)) }
    }
}
