import CleaveCgroups

/// Creates a workload's cgroup with the controllers its limits need and the
/// limits applied. Returns whether cleave created it (and so may remove it).
public enum CgroupSetup {
    /// Controllers enabled when the hierarchy has them, so statistics exist
    /// even without limits; the ones the limits need are required.
    public static let wanted: Set<String> = ["memory", "cpu", "pids"]

    public static func prepare(_ cgroup: Cgroup, limits: ResourceLimits, mount: CgroupMount) throws -> Bool {
        let available = (try? mount.availableControllers()) ?? []
        let required = limits.requiredControllers
        let missing = required.subtracting(available)
        if !missing.isEmpty {
            throw ShimError("controller\(missing.count > 1 ? "s" : "") \(missing.sorted().joined(separator: ", ")) not available in the cgroup2 hierarchy at \(mount.mountPoint) (available: \(available.isEmpty ? "none" : available.sorted().joined(separator: " ")))\(mount.isUnified ? "" : "; this host is hybrid: the controller is bound to cgroup v1")")
        }
        let existed = cgroup.exists
        try cgroup.create(enabling: required.union(wanted.intersection(available)))
        do {
            try cgroup.apply(limits)
        } catch {
            if !existed { try? cgroup.remove(killFirst: true, timeout: .seconds(2)) }
            throw error
        }
        return !existed
    }
}
