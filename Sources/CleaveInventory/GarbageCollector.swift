import CCleaveSystem
import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// `cleave gc`: what `cleave run` left behind when it was killed (SIGKILL, OOM, a crash):
/// run records whose run is gone, and cgroups cleave made (they bear its OwnerMark) whose
/// run is gone. Empty cgroups are removed; populated ones are listed, and killed and
/// removed only with `force`.
///
/// Ownership is the run's OwnerLock, never what a process says about itself: `cleave run`
/// holds it from before it writes its record until it exits, and hands it to its teardown
/// watcher. A cgroup without cleave's `created` mark (made by someone else, a crun
/// container, one a run only claimed or kept) is never touched, nor are its ancestors.
package struct GarbageCollector {
    package struct Options: Sendable {
        package var parent: String
        package var stateDirectory: String
        package var force: Bool
        package var dryRun: Bool

        package init(parent: String = "cleave", stateDirectory: String = RunState.directory,
                    force: Bool = false, dryRun: Bool = false) {
            self.parent = parent; self.stateDirectory = stateDirectory; self.force = force; self.dryRun = dryRun
        }
    }

    package struct Finding: Codable, Sendable, Equatable {
        package enum Kind: String, Codable, Sendable { case cgroup, state }
        package enum Action: String, Codable, Sendable {
            case removed
            case killedAndRemoved = "killed+removed"
            case wouldRemove = "would remove"
            case wouldKillAndRemove = "would kill+remove"
            /// Populated, no --force: listed only.
            case left
            case failed
        }
        package var kind: Kind
        package var path: String
        package var action: Action
        package var detail: String
    }

    package struct Report: Codable, Sendable {
        package var findings: [Finding] = []
        /// Something orphaned is still there (populated without --force, or a dry run).
        package var leftovers: Int { findings.filter { [.left, .wouldRemove, .wouldKillAndRemove].contains($0.action) }.count }
        package var errors: Int { findings.filter { $0.action == .failed }.count }
        /// 0 nothing left, 1 orphans left, 2 errors.
        package var exitCode: Int32 { errors > 0 ? 2 : (leftovers > 0 ? 1 : 0) }
    }

    package let options: Options
    package let mount: CgroupMount

    package init(options: Options, mount: CgroupMount) {
        self.options = options
        self.mount = mount
    }

    package func collect() throws -> Report {
        let root = try Cgroup(mount: mount, path: options.parent)
        guard !root.relativePath.isEmpty else { throw CleaveError.message("--parent: refusing the root of the cgroup2 hierarchy") }
        let listed = Self.descendants(of: root)
        var report = Report()
        // A record is acted on (its cgroup killed): never one from a directory others can write.
        var info = stat()
        if lstat(options.stateDirectory, &info) == 0 { try StateDirectory.check(options.stateDirectory) }
        let records = readRecords(&report)
        var claimed = Set<String>()
        var stale = [(path: String, state: RunState, why: String)]()
        for (path, state) in records {
            switch ownerStatus(state, record: path) {
            case .alive: claimed.insert(state.cgroup)
            case .gone(let why): stale.append((path, state, why))
            case .keep: claimed.insert(state.cgroup)
            }
        }

        // Cgroups cleave made whose run is gone, below the parent or named by a stale record
        // (which may live outside the parent). Anything else below the parent is protected,
        // and protects its ancestors.
        var candidates = [String: (mark: OwnerMark, why: String)]()
        for cgroup in listed {
            guard let mark = cgroup.ownerMark(), mark.kind == .created, !OwnerLock.isHeld(mark.lock) else {
                claimed.insert(cgroup.path)
                continue
            }
            candidates[cgroup.path] = (mark, "its run is gone (\(mark.lock) is not held)")
        }
        for entry in stale where !claimed.contains(entry.state.cgroup) {
            guard let cgroup = try? Cgroup(absolutePath: entry.state.cgroup, mount: mount), !cgroup.relativePath.isEmpty else {
                if Self.isDirectory(entry.state.cgroup) || !entry.state.cgroup.hasPrefix(mount.mountPoint + "/") {
                    report.findings.append(.init(kind: .cgroup, path: entry.state.cgroup, action: .failed,
                                                 detail: "not below the cgroup2 mount \(mount.mountPoint): left alone"))
                }
                continue
            }
            // Only the cgroup this very run marked (its lock) is the record's to collect.
            guard cgroup.exists, let mark = cgroup.ownerMark(), mark.kind == .created,
                  mark.lock == RunState.absolute(RunState.lockPath(forRecord: entry.path)) else { continue }
            candidates[cgroup.path] = (mark, "run \(entry.state.id): \(entry.why)")
        }
        // Deepest first, so a parent is looked at after its children.
        for (path, candidate) in candidates.sorted(by: { depth($0.key) > depth($1.key) || (depth($0.key) == depth($1.key) && $0.key < $1.key) }) {
            if claimed.contains(where: { $0.utf8.starts(with: (path + "/").utf8) }) { continue }
            guard let cgroup = try? Cgroup(absolutePath: path, mount: mount), !cgroup.relativePath.isEmpty else { continue }
            // Hold the gone run's lock while acting, and check the mark is still the same:
            // a run that claims the cgroup meanwhile (taking over a stale mark) waits for us.
            guard let lock = OwnerLock.takeIfFree(candidate.mark.lock) else { continue }
            defer { lock.release() }
            guard cgroup.ownerMark() == candidate.mark else { continue }
            if let finding = handle(cgroup, why: candidate.why) { report.findings.append(finding) }
        }

        let leftCgroups = Set(report.findings.filter { $0.kind == .cgroup && $0.action == .left }.map(\.path))
        let failedCgroups = Set(report.findings.filter { $0.kind == .cgroup && $0.action == .failed }.map(\.path))
        for entry in stale {
            let cgroup = entry.state.cgroup
            // Kept while its path is unresolved, or while the cgroup it made is still there,
            // so a later `cleave gc --force` still knows whose it was.
            if failedCgroups.contains(cgroup) { continue }
            let ownLock = RunState.absolute(RunState.lockPath(forRecord: entry.path))
            let mark = (try? Cgroup(absolutePath: cgroup, mount: mount)).flatMap { $0.exists ? $0.ownerMark() : nil }
            if mark?.lock == ownLock && mark?.kind == .created
                && (options.dryRun ? leftCgroups.contains(cgroup) : Self.isDirectory(cgroup)) { continue }
            // A cgroup the dead run only claimed (it existed) is released for later runs.
            if !options.dryRun, let mark, mark.lock == ownLock, mark.kind != .created,
               let claimedCgroup = try? Cgroup(absolutePath: cgroup, mount: mount) {
                claimedCgroup.releaseMark(mark)
            }
            if !options.dryRun { unlink(ownLock) }
            if options.dryRun {
                report.findings.append(.init(kind: .state, path: entry.path, action: .wouldRemove, detail: entry.why))
            } else if unlink(entry.path) == 0 || errno == ENOENT {
                report.findings.append(.init(kind: .state, path: entry.path, action: .removed, detail: entry.why))
            } else {
                report.findings.append(.init(kind: .state, path: entry.path, action: .failed, detail: "unlink: \(SystemError.reason(errno))"))
            }
        }
        return report
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private func depth(_ path: String) -> Int { path.split(separator: "/").count }

    /// One orphaned cgroup: removed when empty; when populated, listed, or killed and
    /// removed with --force. nil when there is nothing to do (it vanished, or it still has
    /// children that are not orphans).
    private func handle(_ cgroup: Cgroup, why: String) -> Finding? {
        guard cgroup.exists else { return nil }
        let children = (try? cgroup.children()) ?? []
        if !children.isEmpty && !options.dryRun { return nil }   // a child is owned, or could not be removed
        let pids = (try? cgroup.processes()) ?? []
        let populated = ((try? cgroup.isPopulated()) ?? false) || !pids.isEmpty
        let who = pids.prefix(8).map { "\($0) (\(ProcFS.comm($0) ?? "?"))" }.joined(separator: ", ")
            + (pids.count > 8 ? ", …" : "")
        if !populated {
            if options.dryRun { return .init(kind: .cgroup, path: cgroup.path, action: .wouldRemove, detail: "empty; \(why)") }
            do {
                try cgroup.remove(killFirst: false, timeout: .seconds(2))
                return .init(kind: .cgroup, path: cgroup.path, action: .removed, detail: "empty; \(why)")
            } catch {
                return .init(kind: .cgroup, path: cgroup.path, action: .failed, detail: "\(error)")
            }
        }
        let description = "populated: \(pids.count) process\(pids.count == 1 ? "" : "es")\(who.isEmpty ? "" : ": " + who); \(why)"
        guard options.force else {
            return .init(kind: .cgroup, path: cgroup.path, action: .left,
                         detail: description + "; 'cleave gc --force' kills and removes it")
        }
        if options.dryRun { return .init(kind: .cgroup, path: cgroup.path, action: .wouldKillAndRemove, detail: description) }
        do {
            try cgroup.remove(killFirst: true, timeout: .seconds(10))
            return .init(kind: .cgroup, path: cgroup.path, action: .killedAndRemoved, detail: description)
        } catch {
            return .init(kind: .cgroup, path: cgroup.path, action: .failed, detail: "\(error)")
        }
    }

    private static func descendants(of root: Cgroup) -> [Cgroup] {
        guard root.exists else { return [] }
        var result = [Cgroup]()
        var queue = (try? root.children()) ?? []
        while let cgroup = queue.popLast() {
            queue += (try? cgroup.children()) ?? []
            result.append(cgroup)
        }
        return result
    }

    private func readRecords(_ report: inout Report) -> [(String, RunState)] {
        guard let dir = opendir(options.stateDirectory) else { return [] }
        defer { closedir(dir) }
        var records = [(String, RunState)]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".json") else { continue }   // skips AtomicFile's .cleave-tmp.*
            let path = options.stateDirectory + "/" + name
            do {
                records.append((path, try RunState.read(from: path)))
            } catch {
                // Vanished between readdir and open: its run just ended.
                if access(path, F_OK) == 0 {
                    report.findings.append(.init(kind: .state, path: path, action: .failed, detail: "unreadable state file: \(error)"))
                }
            }
        }
        return records
    }

    enum OwnerStatus { case alive, gone(String), keep }

    /// A run owns its record while its lock is held (by `cleave run` or its watcher). A kept
    /// cgroup keeps its record while the cgroup is there; once someone removed it, nothing is
    /// left for the record to describe.
    private func ownerStatus(_ state: RunState, record: String) -> OwnerStatus {
        let lock = RunState.lockPath(forRecord: record)
        if OwnerLock.isHeld(lock) { return .alive }
        let supervisor = state.supervisorPid.map { "supervisor \($0)" } ?? "its cleave run"
        if state.keepCgroup == true {
            if Self.isDirectory(state.cgroup) { return .keep }
            return .gone("its kept cgroup \(state.cgroup) was removed and \(supervisor) is gone (\(lock) is not held)")
        }
        return .gone("\(supervisor) is gone (\(lock) is not held)")
    }
}
