import CleaveCgroups
import Glibc
import CleaveSystem

/// Creates (or claims) a workload's cgroup with the controllers its limits need and the
/// limits applied, and says what of it is cleave's.
public enum CgroupSetup {
    /// Controllers enabled when the hierarchy has them, so statistics exist
    /// even without limits; the ones the limits need are required.
    public static let wanted: ControllerSet = ["memory", "cpu", "pids"]

    /// The run's cgroup and what cleave may do with it.
    public struct Placement: Sendable {
        public let cgroup: Cgroup
        /// The directories this run made, shallowest first (the leaf last when it is one).
        public let created: [Cgroup]
        /// The run may kill and remove the leaf: it made it (or adopted one a dead cleave
        /// made). false for a cgroup that existed: cleave never kills nor removes it.
        public let owned: Bool
        /// The run's mark on the leaf; nil when cgroupfs keeps no extended attributes.
        public let mark: OwnerMark?

        /// After a failure: kills and removes an owned leaf, removes the intermediate
        /// directories this run made (deepest first, only when empty), releases a claim.
        public func undo() {
            if owned {
                try? cgroup.remove(killFirst: true, timeout: .seconds(5))
            } else if let mark {
                cgroup.releaseMark(mark)
            }
            Cgroup.removeCreated(created.filter { $0 != cgroup })
        }

        /// At the end of a run that leaves the cgroup in place (existing, or kept): the
        /// mark goes, so the cgroup is no longer cleave's and a later run may claim it.
        public func releaseMark() {
            if let mark { cgroup.releaseMark(mark) }
        }
    }

    /// `lock` is the run's OwnerLock path, named by the mark.
    public static func prepare(_ cgroup: Cgroup, limits: ResourceLimits, mount: CgroupMount,
                               lock: String, keep: Bool) throws -> Placement {
        try prepare(cgroup, limits: limits, mount: mount, lock: lock, keep: keep, beforeClaim: {})
    }

    /// `beforeClaim` runs between the mkdir and the mark: where tests remove the leaf, as the
    /// watcher of a run that just ended under the same name may.
    package static func prepare(_ cgroup: Cgroup, limits: ResourceLimits, mount: CgroupMount,
                                lock: String, keep: Bool, beforeClaim: () -> Void) throws -> Placement {
        // A leaf found existing (a previous run's, still being torn down) can be removed by that
        // run's watcher before our mark is on it: the mark's setxattr then fails with ENOENT.
        // It is gone, so nothing of anyone's is there: create it anew.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try prepareOnce(cgroup, limits: limits, mount: mount, lock: lock, keep: keep, beforeClaim: beforeClaim)
            } catch let error as CgroupError where error.errno == ENOENT && attempt < 3 && !cgroup.exists {
                continue
            }
        }
    }

    private static func prepareOnce(_ cgroup: Cgroup, limits: ResourceLimits, mount: CgroupMount,
                                    lock: String, keep: Bool, beforeClaim: () -> Void) throws -> Placement {
        let available = (try? mount.availableControllers()) ?? []
        let required = limits.requiredControllers
        let missing = required.subtracting(available)
        if !missing.isEmpty {
            throw CleaveError.message("controller\(missing.count > 1 ? "s" : "") \(missing.names.joined(separator: ", ")) not available in the cgroup2 hierarchy at \(mount.mountPoint) (available: \(available.isEmpty ? "none" : available.description))\(mount.isUnified ? "" : "; this host is hybrid: the controller is bound to cgroup v1")")
        }
        let created = try cgroup.create(enabling: required.union(wanted.intersection(available)))
        let madeLeaf = created.last == cgroup
        // Parents this run made are cleave's too: gc may remove them once empty and unowned.
        for parent in created where parent != cgroup {
            _ = try? parent.claim(OwnerMark(kind: .created, lock: lock), adoptAs: .created)
        }
        var placement = Placement(cgroup: cgroup, created: created, owned: madeLeaf, mark: nil)
        beforeClaim()
        do {
            let kind: OwnerMark.Kind = madeLeaf ? (keep ? .kept : .created) : .claimed
            switch try cgroup.claim(OwnerMark(kind: kind, lock: lock), adoptAs: keep ? .kept : .created) {
            case .claimed(let mark):
                placement = Placement(cgroup: cgroup, created: created, owned: madeLeaf || mark.kind != .claimed, mark: mark)
            case .owned(let other):
                // Made by us a moment ago but claimed first by a run that found it existing:
                // it is that run's now; we touch nothing of it.
                placement = Placement(cgroup: cgroup, created: created, owned: false, mark: nil)
                throw CleaveError.message("cgroup \(cgroup.path) belongs to another cleave run (it holds \(other.lock)); choose another --cgroup")
            case .unsupported:
                break   // no mark: ownership rests on our own mkdir alone
            }
            // One that existed must be empty, without children: nothing in it is ever ours to touch.
            if !madeLeaf { try requireEmpty(cgroup) }
            try cgroup.apply(limits)
        } catch {
            placement.undo()
            throw error
        }
        return placement
    }

    /// Without a run lock (`cleave verify`'s own cgroups): created and limited, unmarked,
    /// so `cleave gc` never takes them. Returns whether this call made the leaf.
    @discardableResult
    public static func prepare(_ cgroup: Cgroup, limits: ResourceLimits, mount: CgroupMount) throws -> Bool {
        let available = (try? mount.availableControllers()) ?? []
        let created = try cgroup.create(enabling: limits.requiredControllers.union(wanted.intersection(available)))
        do { try cgroup.apply(limits) } catch {
            if created.last == cgroup { try? cgroup.remove(killFirst: true, timeout: .seconds(2)) }
            Cgroup.removeCreated(created.filter { $0 != cgroup })
            throw error
        }
        return created.last == cgroup
    }

    package static func requireEmpty(_ cgroup: Cgroup) throws {
        if let procs = try? cgroup.processes(), !procs.isEmpty {
            throw CleaveError.message("cgroup \(cgroup.path) already holds \(procs.count) process(es) (\(procs.prefix(5).map(String.init).joined(separator: ", "))); choose another --cgroup")
        }
        let children = try cgroup.children()
        if !children.isEmpty {
            throw CleaveError.message("cgroup \(cgroup.path) exists and has \(children.count) child cgroup(s) (\(children.prefix(3).map(\.path).joined(separator: ", "))); cleave runs only in a cgroup it creates or an empty one without children: choose another --cgroup")
        }
    }
}
