import CleaveCgroups
import Prometheus
import Synchronization
import CleaveSystem

/// Renders /metrics. Every series lives in AgentState's registry and is made
/// once: swift-prometheus copies its table of label sets on each make, so
/// making 1,000 series per scrape would cost O(n²). A scrape reads the
/// cgroup files of the cgroups the watcher published (no tree walk), sets
/// the values, and unregisters the series of cgroups that are gone and of
/// values whose file is missing or unreadable: absent, never a false 0.
/// Scrapes are serialised (a counter is reset and set to the kernel's value).
final class MetricsExporter: Sendable {
    private struct CgroupSeries {
        var workingSet: Gauge?
        var cpu: Counter?
        var oomKills: Counter?
    }

    private struct Series {
        var cgroups: [String: CgroupSeries] = [:]
        var teardownMemory: [String: Gauge] = [:]
        var pending: Gauge?
        var nodeTotal: Gauge?
        var nodeAvailable: Gauge?
        var dying: [String: Gauge] = [:]
    }

    private let state: AgentState
    private let mount: CgroupMount
    private let inProgress: Gauge
    private let series = Mutex(Series())

    private var registry: PrometheusCollectorRegistry { state.registry }

    init(state: AgentState, mount: CgroupMount) {
        self.state = state
        self.mount = mount
        inProgress = state.registry.makeGauge(
            name: "cleave_teardowns_in_progress", help: "cgroups in teardown: populated, and every process in them a cleanup/* helper.")
    }

    func render() -> [UInt8] {
        let snapshot = state.snapshot()
        return series.withLock { series in
            update(&series, snapshot)
            var out = [UInt8]()
            out.reserveCapacity(128 * 1024)
            registry.emit(into: &out)
            return out
        }
    }

    private func update(_ series: inout Series, _ snapshot: AgentState.Snapshot) {
        inProgress.set(Int64(snapshot.teardowns.count))
        var pending: UInt64? = 0
        var inTeardown = Set<String>()
        for teardown in snapshot.teardowns {
            inTeardown.insert(teardown.cgroup)
            let bytes = (try? Cgroup(mount: mount, path: teardown.cgroup)).flatMap { CgroupReadings.singleValue($0, "memory.current") }
            series.teardownMemory[teardown.cgroup] = gauge(series.teardownMemory[teardown.cgroup], bytes) {
                registry.makeGauge(name: "cleave_teardown_memory_bytes", labels: [("cgroup", teardown.cgroup)],
                                   help: "memory.current of a cgroup in teardown: memory still charged, to be released by its helper.")
            }
            pending = bytes.flatMap { b in pending.map { $0 + b } }
        }
        for (cgroup, g) in series.teardownMemory where !inTeardown.contains(cgroup) {
            registry.unregisterGauge(g)
            series.teardownMemory[cgroup] = nil
        }
        series.pending = gauge(series.pending, pending) {
            registry.makeGauge(name: "cleave_node_memory_pending_release_bytes",
                               help: "Sum of memory.current over the cgroups in teardown (absent when one of them has no memory controller).")
        }

        // The node's memory beside the pending release: alerts compare the two.
        let node = NodeMemory.read()
        series.nodeTotal = gauge(series.nodeTotal, node?.total) {
            registry.makeGauge(name: "cleave_node_memory_total_bytes", help: "MemTotal of /proc/meminfo, in bytes.")
        }
        series.nodeAvailable = gauge(series.nodeAvailable, node?.available) {
            registry.makeGauge(name: "cleave_node_memory_available_bytes",
                               help: "MemAvailable of /proc/meminfo, in bytes: memory the kernel can give without swapping.")
        }

        var watched = Set<String>()
        var memoryForChildren: [Substring: Bool] = [:]   // parent -> "memory" in its cgroup.subtree_control
        for rel in snapshot.watched {
            let label = "/" + rel
            watched.insert(label)
            let parent = rel.lastIndex(of: "/").map { rel[..<$0] } ?? (rel.isEmpty ? nil : "")
            var memory = false
            if let parent {
                if let known = memoryForChildren[parent] { memory = known } else {
                    memory = CgroupReadings.subtreeControl(parent.isEmpty ? mount.mountPoint : mount.mountPoint + "/" + parent).contains("memory")
                    memoryForChildren[parent] = memory
                }
            }
            let readings = CgroupReadings.read(rel.isEmpty ? mount.mountPoint : mount.mountPoint + "/" + rel, memory: memory)
            var s = series.cgroups[label] ?? CgroupSeries()
            let labels = [("cgroup", label)]
            s.workingSet = gauge(s.workingSet, readings.workingSet) {
                registry.makeGauge(name: "cleave_cgroup_memory_working_set_bytes", labels: labels,
                                   help: "memory.current minus inactive_file (memory.stat), floored at 0, as kubelet computes it.")
            }
            s.cpu = counter(s.cpu, readings.cpuUsageUsec, { $0.increment(by: Double($1) / 1e6) }) {
                registry.makeCounter(name: "cleave_cgroup_cpu_usage_seconds_total", labels: labels, help: "usage_usec of cpu.stat, in seconds.")
            }
            s.oomKills = counter(s.oomKills, readings.oomKills, { $0.increment(by: Int64(clamping: $1)) }) {
                registry.makeCounter(name: "cleave_cgroup_oom_kills_total", labels: labels,
                                     help: "oom_kill of memory.events: processes the OOM killer ended in this cgroup and below.")
            }
            series.cgroups[label] = (s.workingSet == nil && s.cpu == nil && s.oomKills == nil) ? nil : s
        }
        for (label, s) in series.cgroups where !watched.contains(label) {
            s.workingSet.map(registry.unregisterGauge)
            s.cpu.map(registry.unregisterCounter)
            s.oomKills.map(registry.unregisterCounter)
            series.cgroups[label] = nil
        }

        var roots = Set<String>()
        for root in snapshot.roots {
            let label = "/" + root
            roots.insert(label)
            let dying = (try? Cgroup(mount: mount, path: root)).flatMap { CgroupReadings.keyed($0, "cgroup.stat", "nr_dying_descendants") }
            series.dying[label] = gauge(series.dying[label], dying) {
                registry.makeGauge(name: "cleave_dying_cgroups", labels: [("root", label)],
                                   help: "nr_dying_descendants of cgroup.stat: removed cgroups the kernel still holds (memory not yet reclaimed).")
            }
        }
        for (label, g) in series.dying where !roots.contains(label) {
            registry.unregisterGauge(g)
            series.dying[label] = nil
        }
    }

    /// Sets (making it if needed) or, when the value is unknown, unregisters a gauge.
    private func gauge(_ existing: Gauge?, _ value: UInt64?, make: () -> Gauge) -> Gauge? {
        guard let value else {
            existing.map(registry.unregisterGauge)
            return nil
        }
        let g = existing ?? make()
        g.set(Int64(clamping: value))
        return g
    }

    /// A counter that mirrors a kernel counter: reset, then set to its value.
    private func counter(_ existing: Counter?, _ value: UInt64?, _ set: (Counter, UInt64) -> Void, make: () -> Counter) -> Counter? {
        guard let value else {
            existing.map(registry.unregisterCounter)
            return nil
        }
        let c = existing ?? make()
        c.reset()
        set(c, value)
        return c
    }
}
