import Glibc
import CleaveSystem

extension Cgroup {
    /// mkdir -p, enabling `controllers` in cgroup.subtree_control of every
    /// ancestor from the root down to the parent — never in the leaf, which
    /// holds processes (the no-internal-process rule answers EBUSY).
    /// Returns the directories this call made, shallowest first (EEXIST: not
    /// ours); on failure it removes exactly those, deepest first, and throws.
    @discardableResult
    public func create(enabling controllers: ControllerSet = []) throws -> [Cgroup] {
        if !controllers.isEmpty {
            let available = try mount.availableControllers()
            let missing = controllers.subtracting(available)
            if !missing.isEmpty {
                throw CgroupError(operation: "enable controller", path: mount.mountPoint + "/cgroup.controllers",
                                  message: "\(missing.names.joined(separator: ", ")) not available (available: \(available.isEmpty ? "none" : available.description))")
            }
        }
        var ancestors = [Cgroup]()
        var current: Cgroup? = self
        while let c = current { ancestors.insert(c, at: 0); current = c.parentCgroup }
        var created = [Cgroup]()
        // Another manager may remove an empty ancestor between our mkdirs (ENOENT): start over.
        for attempt in 1...5 {
            do {
                try create(ancestors, enabling: controllers, created: &created)
                return created
            } catch let error as CgroupError where error.errno == ENOENT && attempt < 5 {
                continue
            } catch {
                Cgroup.removeCreated(created)
                throw error
            }
        }
        return created
    }

    private func create(_ ancestors: [Cgroup], enabling controllers: ControllerSet, created: inout [Cgroup]) throws {
        for (i, cgroup) in ancestors.enumerated() {
            if !cgroup.relativePath.isEmpty && !cgroup.exists {
                if mkdir(cgroup.path, 0o755) == 0 {
                    if !created.contains(cgroup) { created.append(cgroup) }
                } else if errno != EEXIST {
                    throw CgroupError.system("mkdir", cgroup.path)
                }
            }
            guard i < ancestors.count - 1, !controllers.isEmpty else { continue }
            let enabled = ControllerSet.parse((try cgroup.read("cgroup.subtree_control")) ?? "")
            let needed = controllers.subtracting(enabled)
            if needed.isEmpty { continue }
            try cgroup.write("cgroup.subtree_control", needed.names.map { "+" + $0 }.joined(separator: " "))
        }
    }

    /// rmdir of `created` (as `create` returned it), deepest first. No kill, no
    /// recursion: a directory someone else has put a child or a process in stays.
    public static func removeCreated(_ created: [Cgroup]) {
        for cgroup in created.reversed() { _ = rmdir(cgroup.path) }
    }

    /// Waits with inotify on cgroup.events until "populated 0" or the cgroup's removal, or the
    /// timeout; `recheck`: the longest sleep between two reads of the file.
    public func waitUntilEmpty(timeout: Duration, recheck: Duration = .seconds(5)) throws -> Bool {
        try EmptinessWaiter(cgroup: self, recheck: recheck).wait(timeout: timeout)
    }

    public func freeze(_ frozen: Bool) throws {
        try write("cgroup.freeze", frozen ? "1" : "0")
    }

    /// cgroup.kill (Linux 5.14) kills the subtree; otherwise killEachProcess.
    public func kill() throws {
        let killFile = file("cgroup.kill")
        if access(killFile, F_OK) == 0 {
            let err = FileIO.write(killFile, "1")
            if err == 0 || err == ENOENT { return }
            throw CgroupError(operation: "write '1' to", path: killFile, message: errnoText(err), errno: err)
        }
        try killEachProcess()
    }

    /// rmdir. A populated cgroup is refused unless `killFirst`, which kills
    /// and empties it (children first) before removing. EBUSY right after
    /// emptying is retried with a short backoff; a vanished cgroup counts as
    /// removed.
    public func remove(killFirst: Bool = false, timeout: Duration = .seconds(5)) throws {
        if killFirst {
            guard exists else { return }
            for child in (try? children()) ?? [] { try child.remove(killFirst: true, timeout: timeout) }
            if (try? isPopulated()) == true {
                try kill()
                _ = try waitUntilEmpty(timeout: timeout)
            }
        }
        let deadline = Clock.deadline(after: timeout)
        var delay: UInt32 = 1000
        var first = true
        while true {
            // rmdir first: an empty cgroup (the usual end of a run) needs no look inside.
            if rmdir(path) == 0 || errno == ENOENT { return }
            let err = errno
            // Without killFirst, processes in it are not ours to wait for: say so at once
            // (cgroupfs answers EBUSY; a plain directory standing in for one, ENOTEMPTY).
            if first && (err == EBUSY || err == ENOTEMPTY) && !killFirst && (try? isPopulated()) == true {
                let count = (try? processes().count) ?? 0
                throw CgroupError(operation: "rmdir", path: path,
                                  message: "cgroup is populated (\(count) process\(count == 1 ? "" : "es") in it or below); kill it first")
            }
            first = false
            guard err == EBUSY, Clock.monotonicNanoseconds() < deadline else { throw CgroupError.system("rmdir", path, errno: err) }
            usleep(delay)
            delay = min(delay * 2, 100_000)
        }
    }
}
