import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave hook` and `cleave prepare` on the host: a real process in a real cgroup stands in
/// for the container, and the hook is fed the state a runtime would pass.
@Suite("cleave hook and prepare (host tier)", .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct HookTests {
    static func state(id: String, status: String, pid: Int32?, extra: String = "") -> String {
        let pidMember = pid.map { #", "pid": \#($0)"# } ?? ""
        return #"{"ociVersion": "1.0.2", "id": "\#(id)", "status": "\#(status)", "bundle": "/tmp"\#(pidMember)\#(extra)}"#
    }

    /// Runs `cleave hook ARGS` with `stdin`, its files under `dir`.
    static func hook(_ args: [String], stdin: String, dir: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess([TestEnvironment.cleave, "hook"] + args, environment: ["CLEAVE_HOOK_DIR": dir, "CLEAVE_EVENT_LOG": dir + "/events.log"],
                         stdin: stdin).wait()
    }

    /// A scratch directory for hook records, removed with everything in it.
    /// Removed once no process started with it (a follower the poststart hook detached) is
    /// left: one that ends later would log its end to the directory's events.log, and the
    /// event log makes its directory again.
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let bundle = try TestBundle("{}")
        defer {
            _ = TestEnvironment.eventually(timeout: 15) { processes(withHookDirectory: bundle.directory).isEmpty }
            bundle.remove()
        }
        try body(bundle.directory)
    }

    /// Processes whose environment has CLEAVE_HOOK_DIR=`dir`.
    static func processes(withHookDirectory dir: String) -> [Int32] {
        let entry = "CLEAVE_HOOK_DIR=\(dir)"
        return ProcFS.allPids().filter { pid in
            (FileIO.read("/proc/\(pid)/environ") ?? "").split(separator: "\0").contains { $0 == entry }
        }
    }

    /// The file /proc/<pid>/exe names (that of the memory the task runs in).
    static func executable(_ pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(cString: buffer) : nil
    }

    static func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let text = try #require(FileIO.read(path), "missing \(path)")
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    @Test("poststart records the container's cgroup and pid; poststop reports and cleans up")
    func poststartThenPoststop() throws {
        let path = TestEnvironment.uniqueCgroupPath("hook")
        defer { TestEnvironment.removeCgroup(path) }
        try Self.withDirectory { dir in
            let workload = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "sh", "-c", "echo $$; exec sleep 60"])
            let line = try #require(workload.readLine())
            let pid = try #require(Int32(line))
            // sh's helper retires at the exec and sleep's starts after it: wait until sleep's is
            // the one there (it shares sleep's memory, so its exe is sleep's) before the hook looks.
            let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
            #expect(TestEnvironment.eventually {
                let helpers = TeardownHelpers.helpers(of: pid, among: (try? cgroup.processes()) ?? [])
                return ProcFS.comm(pid) == "sleep" && helpers.count == 1 && Self.executable(helpers[0]) == Self.executable(pid)
            }, "sleep's own helper did not appear")
            let id = "hk-\(getpid())"
            let start = try Self.hook([], stdin: Self.state(id: id, status: "running", pid: pid), dir: dir)
            #expect(start.status == 0, "stderr: \(start.stderr)")
            let record = try Self.decode(PoststartRecord.self, "\(dir)/\(id).json")
            #expect(record.pid == pid)
            #expect(record.cgroup == TestEnvironment.mount!.mountPoint + "/" + path)
            #expect(record.pidStartTime == ProcFS.startTime(pid))
            #expect(record.helperPresent, "cleave run's workload has a cleanup/* helper")
            #expect(!record.pidNamespaceInit)

            kill(pid, SIGTERM)
            _ = try workload.wait()
            let stop = try Self.hook(["poststop"], stdin: Self.state(id: id, status: "stopped", pid: nil), dir: dir)
            #expect(stop.status == 0, "stderr: \(stop.stderr)")
            #expect(stop.stderr.contains("cleave: hook poststop: container \(id): cgroup \(record.cgroup)"), "stderr: \(stop.stderr)")
            let report = try Self.decode(PoststopReport.self, "\(dir)/reports/\(id).json")
            #expect(report.cgroup == record.cgroup)
            #expect(report.helperPresent == true)
            #expect(report.teardownSeconds != nil, "the follower timed the teardown: \(report)")
            #expect(FileIO.read("\(dir)/\(id).json") == nil, "poststop removes poststart's record")
            #expect(EventLog(path: dir + "/events.log").events().contains { $0.event == "hook-report" && $0.cgroup == record.cgroup })
            #expect(TestEnvironment.eventually { (try? Cgroup(mount: TestEnvironment.mount!, path: path).exists) == false })
        }
    }

    @Test("a workload that is PID 1 of its own PID namespace gets the note that async teardown cannot shorten its stop")
    func pidNamespaceNote() throws {
        let path = TestEnvironment.uniqueCgroupPath("pidns")
        defer { TestEnvironment.removeCgroup(path) }
        try Self.withDirectory { dir in
            let workload = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--",
                                             "unshare", "--pid", "--fork", "--kill-child", "sh", "-c", "echo ready; exec sleep 60"])
            #expect(workload.readLine() == "ready")
            let procs = try Cgroup(mount: #require(TestEnvironment.mount), path: path).processes()
            let inner = try #require(procs.first { ProcFS.namespacePids($0)?.last == 1 }, "procs: \(procs)")
            let start = try Self.hook(["poststart"], stdin: Self.state(id: "pidns-\(getpid())", status: "running", pid: inner), dir: dir)
            #expect(start.status == 0)
            #expect(start.stderr.contains("note: async teardown cannot shorten this container's stop"), "stderr: \(start.stderr)")
            let record = try Self.decode(PoststartRecord.self, "\(dir)/pidns-\(getpid()).json")
            #expect(record.pidNamespaceInit)
            kill(inner, SIGKILL)
            _ = try workload.wait()
            _ = try Self.hook(["poststop"], stdin: Self.state(id: "pidns-\(getpid())", status: "stopped", pid: nil), dir: dir)
        }
    }

    @Test("a pid that is gone is refused without a record, and the hook still exits 0")
    func stalePid() throws {
        try Self.withDirectory { dir in
            let gone = try ChildProcess(["/bin/true"])
            _ = try gone.wait()
            let result = try Self.hook(["poststart"], stdin: Self.state(id: "stale", status: "running", pid: gone.pid), dir: dir)
            #expect(result.status == 0)
            #expect(result.stderr.contains("pid \(gone.pid) of container stale is gone"), "stderr: \(result.stderr)")
            #expect(FileIO.read("\(dir)/stale.json") == nil)
        }
    }

    @Test("a pid reused by an unrelated process is refused: the runtime's record disagrees")
    func reusedPid() throws {
        try Self.withDirectory { dir in
            let unrelated = try ChildProcess(["/bin/sleep", "30"])
            defer { kill(unrelated.pid, SIGKILL) }
            let startTime = try #require(ProcFS.startTime(unrelated.pid))
            // crun's own record (the "root" crun passes in the state) names an older process with this pid.
            mkdir("\(dir)/crun", 0o755); mkdir("\(dir)/crun/reused", 0o755)
            defer { unlink("\(dir)/crun/reused/status"); rmdir("\(dir)/crun/reused"); rmdir("\(dir)/crun") }
            try AtomicFile.write(Array(#"{"pid": \#(unrelated.pid), "process-start-time": \#(startTime - 1)}"#.utf8), to: "\(dir)/crun/reused/status")
            let result = try Self.hook(["poststart"], stdin: Self.state(id: "reused", status: "running", pid: unrelated.pid,
                                                                         extra: #", "root": "\#(dir)/crun""#), dir: dir)
            #expect(result.status == 0)
            #expect(result.stderr.contains("pid \(unrelated.pid) was reused"), "stderr: \(result.stderr)")
            #expect(FileIO.read("\(dir)/reused.json") == nil)

            // The same record with the right start time is accepted and says how it was checked.
            try AtomicFile.write(Array(#"{"pid": \#(unrelated.pid), "process-start-time": \#(startTime)}"#.utf8), to: "\(dir)/crun/reused/status")
            let ok = try Self.hook(["poststart"], stdin: Self.state(id: "reused", status: "running", pid: unrelated.pid,
                                                                     extra: #", "root": "\#(dir)/crun""#), dir: dir)
            #expect(ok.status == 0, "stderr: \(ok.stderr)")
            #expect(try Self.decode(PoststartRecord.self, "\(dir)/reused.json").pidVerifiedBy == "runtime-state")
            kill(unrelated.pid, SIGKILL)
            _ = try unrelated.wait()
            _ = try Self.hook(["poststop"], stdin: Self.state(id: "reused", status: "stopped", pid: nil), dir: dir)
        }
    }

    @Test("bad state on stdin: a clear message and exit 0", arguments: [
        ("", "empty input"),
        ("{not json", "line 1, column 2: invalid JSON"),
        (#"{"ociVersion": "1.0.2", "id": "x", "status": "running", "bundle": "relative"}"#, "bundle: 'relative' is not an absolute path"),
        (#"{"ociVersion": "1.0.2", "id": "../x", "status": "running", "bundle": "/b", "pid": 1}"#, "container id '../x' cannot name a file"),
        (#"{"ociVersion": "1.0.2", "id": "x", "status": "paused", "bundle": "/b"}"#, "cannot tell the stage from status 'paused'"),
    ])
    func badState(stdin: String, message: String) throws {
        try Self.withDirectory { dir in
            let result = try Self.hook([], stdin: stdin, dir: dir)
            #expect(result.status == 0)
            #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        }
    }

    @Test("cleave prepare adds the library mount, LD_PRELOAD and the hooks, keeps the rest, and is idempotent")
    func prepare() throws {
        let original = """
        {"ociVersion": "1.0.2", "zzUnknown": {"keep": [1, 2.50, 18446744073709551615]},
         "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin", "LD_PRELOAD=/other.so"]},
         "root": {"path": "rootfs"}, "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
         "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}
        """
        let bundle = try TestBundle(original)
        defer { bundle.remove() }
        let first = try ChildProcess([TestEnvironment.cleave, "prepare", "--bundle", bundle.directory, "--library", "/opt/lib/libcleave-teardown.so"]).wait()
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let once = try #require(bundle.read("config.json"))
        #expect(once.contains(#""keep": [\#n      1,\#n      2.50,\#n      18446744073709551615\#n    ]"#), "numbers keep their text: \(once)")
        #expect(once.range(of: "zzUnknown")!.lowerBound < once.range(of: "\"process\"")!.lowerBound, "member order is kept")
        #expect(once.contains(#""LD_PRELOAD=/usr/lib/cleave/libcleave-teardown.so:/other.so""#))
        #expect(once.contains(#""source": "/opt/lib/libcleave-teardown.so""#))
        #expect(once.contains(#""destination": "/proc""#))
        #expect(once.contains(#""hook",\#n          "poststart""#) && once.contains(#""hook",\#n          "poststop""#), "\(once)")
        #expect(once.contains(#""io.cleave.teardown": "async""#))
        let second = try ChildProcess([TestEnvironment.cleave, "prepare", "--bundle", bundle.directory, "--library", "/opt/lib/libcleave-teardown.so"]).wait()
        #expect(second.status == 0)
        #expect(bundle.read("config.json") == once, "a second prepare changes nothing")

        try AtomicFile.write(Array(#"{"ociVersion": "1.0.2", "process": {"args": "sh", "cwd": "/", "user": {"uid": 0, "gid": 0}}}"#.utf8), to: bundle.configPath)
        let bad = try ChildProcess([TestEnvironment.cleave, "prepare", "--bundle", bundle.directory, "--library", "/x.so"]).wait()
        #expect(bad.status == 125)
        #expect(bad.stderr.contains("\(bundle.configPath): process.args: expected an array"), "stderr: \(bad.stderr)")
    }
}
