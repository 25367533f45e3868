import CleaveCgroups
import Prometheus

/// Renders /metrics: the long-lived counters and histogram of AgentState,
/// then the values of this moment, read fresh from the cgroup files of the
/// cgroups the watcher published (no tree walk). A registry per scrape
/// means a cgroup that is gone has no series, and a value whose file is
/// missing or unreadable is left out rather than reported as 0.
enum MetricsExporter {
    static func render(state: AgentState, mount: CgroupMount) -> [UInt8] {
        let snapshot = state.snapshot()
        let registry = PrometheusCollectorRegistry()

        registry.makeGauge(name: "cleave_teardowns_in_progress",
                           help: "cgroups in teardown: populated, and every process in them a cleanup/* helper.")
            .set(Int64(snapshot.teardowns.count))
        var pending: UInt64 = 0
        var allKnown = true
        for teardown in snapshot.teardowns.sorted(by: { $0.cgroup < $1.cgroup }) {
            guard let cgroup = try? Cgroup(mount: mount, path: teardown.cgroup),
                  let bytes = CgroupReadings.singleValue(cgroup, "memory.current") else { allKnown = false; continue }
            registry.makeGauge(name: "cleave_teardown_memory_bytes", labels: [("cgroup", teardown.cgroup)],
                               help: "memory.current of a cgroup in teardown: memory still charged, to be released by its helper.")
                .set(Int64(clamping: bytes))
            pending += bytes
        }
        if allKnown {
            registry.makeGauge(name: "cleave_node_memory_pending_release_bytes",
                               help: "Sum of memory.current over the cgroups in teardown (absent when one of them has no memory controller).")
                .set(Int64(clamping: pending))
        }

        for rel in snapshot.watched {
            guard let cgroup = try? Cgroup(mount: mount, path: rel) else { continue }
            let readings = CgroupReadings.read(cgroup)
            let labels = [("cgroup", "/" + rel)]
            if let ws = readings.workingSet {
                registry.makeGauge(name: "cleave_cgroup_memory_working_set_bytes", labels: labels,
                                   help: "memory.current minus inactive_file (memory.stat), floored at 0, as kubelet computes it.")
                    .set(Int64(clamping: ws))
            }
            if let usec = readings.cpuUsageUsec {
                registry.makeCounter(name: "cleave_cgroup_cpu_usage_seconds_total", labels: labels,
                                     help: "usage_usec of cpu.stat, in seconds.")
                    .increment(by: Double(usec) / 1e6)
            }
            if let kills = readings.oomKills {
                registry.makeCounter(name: "cleave_cgroup_oom_kills_total", labels: labels,
                                     help: "oom_kill of memory.events: processes the OOM killer ended in this cgroup and below.")
                    .increment(by: Int64(clamping: kills))
            }
        }
        for root in snapshot.roots {
            guard let cgroup = try? Cgroup(mount: mount, path: root),
                  let dying = CgroupReadings.keyed(cgroup, "cgroup.stat", "nr_dying_descendants") else { continue }
            registry.makeGauge(name: "cleave_dying_cgroups", labels: [("root", "/" + root)],
                               help: "nr_dying_descendants of cgroup.stat: removed cgroups the kernel still holds (memory not yet reclaimed).")
                .set(Int64(clamping: dying))
        }

        var out = [UInt8]()
        out.reserveCapacity(64 * 1024)
        state.registry.emit(into: &out)
        registry.emit(into: &out)
        return out
    }
}
