import CleaveCgroups
import CleaveOCI
import FoundationEssentials
import Glibc
import CleaveRuntime
import CleaveSystem

/// `cleave hook poststart`: finds the container's cgroup through its verified main
/// process, records a baseline for poststop and starts a detached follower that times
/// the teardown.
package enum PoststartHook {
    package static let pidNamespaceNote =
        "async teardown cannot shorten this container's stop: its main process is PID 1 of its own PID namespace, so its exit waits until the kernel has killed every process in the namespace, the helper too; the memory stays charged to the container's cgroup either way"

    package static func run(state: ContainerState, rawState: Data, files: HookFiles, followerCommand: [String]?,
                            inject: Bool = false) throws -> PoststartRecord {
        let process = try ContainerProcess.open(state, rawState: rawState)
        defer { process.close() }
        let mount = try CgroupMount.discover()
        guard let relative = ProcFS.cgroupPath(process.pid) else { throw CleaveError.message("cannot read /proc/\(process.pid)/cgroup") }
        let cgroup = try Cgroup(mount: mount, path: relative)

        var notes: [String] = []
        var helpers = awaitHelpers(of: process, in: cgroup)
        // After the preloaded helper had its chance to appear: attach refuses a second one.
        let injection = HookInjection.apply(flag: inject, state: state, process: process, cgroup: cgroup.path)
        notes += injection.notes
        if injection.injected { helpers = TeardownHelpers.helpers(among: (try? cgroup.processes()) ?? []) }
        let namespaceInit = process.isNamespaceInit
        if namespaceInit { notes.append(pidNamespaceNote) }
        if helpers.isEmpty {
            notes.append("no cleanup/* helper in the container's cgroup: the workload was not started with libcleave-teardown.so (see cleave prepare) nor given one by cleave hook poststart --inject; its exit frees its memory synchronously")
        }
        let record = PoststartRecord(
            id: state.id, pid: process.pid, pidStartTime: process.startTime, pidVerifiedBy: process.verifiedBy,
            cgroup: cgroup.path, memoryCurrentBytes: (try? cgroup.read("memory.current")).flatMap { $0.flatMap { UInt64($0.trimmed()) } },
            pidNamespaceInit: namespaceInit, helperPresent: !helpers.isEmpty, helperPids: helpers,
            recordedAt: Clock.wallSeconds(), notes: notes, injection: injection.report)
        try StateDirectory.prepare(files.directory)
        try HookJSON.write(record, to: files.record)
        if let followerCommand {
            // The follower gets the verified pidfd itself: no window in which the process
            // could exit (or its pid be reused) before the follower holds it.
            _ = try? DetachedProcess.spawn(followerCommand + ["--pid", "\(process.pid)", "--pidfd", "3",
                                                              "--cgroup", cgroup.path, "--output", files.observation],
                                           passing: process.pidfd)
        }
        return record
    }

    /// The helper appears when the preloaded library's constructor runs, which may be just
    /// after the runtime's start returned: wait briefly when the environment asks for one.
    private static func awaitHelpers(of process: ContainerProcess, in cgroup: Cgroup) -> [Int32] {
        let wantsHelper = ProcFS.environment(process.pid)?.contains {
            $0.hasPrefix("LD_PRELOAD=") && $0.contains(TeardownLibrary.fileName)
        } ?? false
        let deadline = Clock.monotonicNanoseconds() + (wantsHelper ? 2_000_000_000 : 0)
        while true {
            let helpers = TeardownHelpers.helpers(among: (try? cgroup.processes()) ?? [])
            if !helpers.isEmpty || Clock.monotonicNanoseconds() >= deadline { return helpers }
            usleep(10_000)
        }
    }
}

/// Pretty, sorted JSON files written atomically, and read back.
enum HookJSON {
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(value)) + [0x0a], to: path)
    }

    static func read<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let text = FileIO.read(path) else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
