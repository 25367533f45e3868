import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// The cgroups cleave manages, with what `cleave ps` and `cleave gc` need to
/// know about each.
package struct ManagedCgroup: Codable, Sendable {
    package enum State: String, Codable, Sendable {
        case running
        /// Only teardown helpers are left: memory is being released.
        case tearingDown = "tearing down"
        case empty
        /// A run's record names it, but it does not exist (not created yet, or
        /// removed while its record stays for `cleave gc`).
        case missing = "no cgroup"
    }

    package var path: String
    package var state: State
    package var pids: [Int32]
    package var helperPids: [Int32]
    package var memoryCurrent: UInt64?
    package var ageSeconds: Double?
    /// The run whose record names this cgroup; nil for a cgroup found below
    /// the parent without a record (a run that predates records, or an orphan).
    package var run: String?
    /// The record's file, and the run's status and `cleave run` pid as recorded.
    package var record: String?
    package var runStatus: String?
    package var supervisorPid: Int32?
}

package enum ManagedCgroups {
    /// Every run with a record in `stateDirectory` whatever its cgroup's parent
    /// (`cleave run --cgroup rw/x` is not below `cleave`), then the cgroups below
    /// `parent` that no record names. `onlyUnderParent`: keep only what is below
    /// `parent` (`cleave ps --parent P`).
    package static func list(parent: String = "cleave", mount: CgroupMount,
                            stateDirectory: String = RunState.directory,
                            onlyUnderParent: Bool = false) throws -> [ManagedCgroup] {
        let root = try Cgroup(mount: mount, path: parent)
        var result = [ManagedCgroup]()
        var named = Set<String>()
        for (file, state) in readRecords(stateDirectory) {
            // Bytes, not String ==: canonically equivalent names are different cgroups.
            let under = state.cgroup.utf8.starts(with: (root.path + "/").utf8)
            if onlyUnderParent && !under { continue }
            // A record may name anything (a stale or hand-written file): only the cgroup2 mount is read.
            guard let cgroup = try? Cgroup(absolutePath: state.cgroup, mount: mount), !cgroup.relativePath.isEmpty else { continue }
            var entry = (cgroup.exists ? describe(cgroup) : nil)
                ?? ManagedCgroup(path: cgroup.path, state: .missing, pids: [], helperPids: [], memoryCurrent: nil, ageSeconds: nil)
            entry.run = state.id
            entry.record = file
            entry.runStatus = state.status.rawValue
            entry.supervisorPid = state.supervisorPid
            named.insert(cgroup.path)
            result.append(entry)
        }
        if root.exists {
            var queue = (try? root.children()) ?? []
            while let cgroup = queue.popLast() {
                queue += (try? cgroup.children()) ?? []
                // A run's cgroup may have children of its own (a container's, verify's held/).
                if named.contains(cgroup.path) || named.contains(where: { cgroup.path.utf8.starts(with: ($0 + "/").utf8) }) { continue }
                if let entry = describe(cgroup) { result.append(entry) }
            }
        }
        return result.sorted { ($0.path, $0.record ?? "") < ($1.path, $1.record ?? "") }
    }

    /// The records of the state directory; an unreadable one (being replaced,
    /// or not a record) is skipped: `cleave gc` reports those.
    static func readRecords(_ directory: String) -> [(String, RunState)] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var records = [(String, RunState)]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".json") else { continue }   // skips AtomicFile's *.tmp.<pid>
            let path = directory + "/" + name
            if let state = try? RunState.read(from: path) { records.append((path, state)) }
        }
        return records
    }

    /// nil when the cgroup vanished while it was being read.
    package static func describe(_ cgroup: Cgroup) -> ManagedCgroup? {
        guard let pids = try? cgroup.processes() else { return nil }
        let (teardown, helpers, _) = TeardownState.classify(pids)
        let state: ManagedCgroup.State = switch teardown {
        case .empty: pids.isEmpty ? .empty : .running   // processes that vanished while being read
        case .running: .running
        case .tearingDown: .tearingDown
        }
        var st = stat()
        let age: Double? = stat(cgroup.path, &st) == 0
            ? max(0, Clock.wallSeconds() - (Double(st.st_ctim.tv_sec) + Double(st.st_ctim.tv_nsec) / 1e9)) : nil
        let memory = (try? cgroup.read("memory.current")).flatMap { $0 }.flatMap { UInt64($0.trimmed()) }
        return ManagedCgroup(path: cgroup.path, state: state, pids: pids, helperPids: helpers,
                             memoryCurrent: memory, ageSeconds: age)
    }
}
