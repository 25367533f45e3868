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

/// Debian's real crun calls `cleave hook` (VM tier: crun refuses hybrid hosts). The rootfs
/// lives on tmpfs (crun cannot pivot_root onto the guest's 9p root) with the host's /usr, /opt
/// and cleave's bin directory bind-mounted read-only, so `cleave probe` runs inside.
@Suite("VMTier: crun with cleave's hook",
       .enabled(if: TestEnvironment.hasMemoryController && access("/usr/bin/crun", X_OK) == 0,
                "needs the memory controller and /usr/bin/crun: run through hack/test.sh (VM tier)"))
struct CrunVMTierTests {
    static let parent = "cleave-test-crun"

    /// A bundle for crun whose process is `cleave probe alloc 64M`, removed (with its
    /// container, rootfs mount and cgroup) by `remove()`.
    struct CrunBundle {
        let id: String
        let directory: String
        let cgroup: String
        var rootfs: String { directory + "/rootfs" }

        init(label: String, pidNamespace: Bool, hooks: String) throws {
            id = "\(label)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            directory = "/tmp/cleave-test-crun-\(id)"
            cgroup = "\(CrunVMTierTests.parent)/\(id)"
            let bin = TestEnvironment.binDirectory
            _ = try ChildProcess(["/bin/mkdir", "-p", directory + "/rootfs"]).wait()
            _ = try ChildProcess(["/bin/mount", "-t", "tmpfs", "tmpfs", rootfs]).wait()
            _ = try ChildProcess(["/bin/sh", "-c", "cd \(rootfs) && mkdir -p usr opt proc dev tmp .\(bin) && ln -s usr/bin bin && ln -s usr/lib lib && ln -s usr/lib64 lib64 && ln -s usr/sbin sbin"]).wait()
            let namespaces = pidNamespace ? #"[{"type": "pid"}, {"type": "mount"}]"# : #"[{"type": "mount"}]"#
            let config = """
            {"ociVersion": "1.0.2",
             "process": {"args": ["\(bin)/cleave", "probe", "alloc", "64M"], "cwd": "/", "env": ["PATH=/usr/bin:/bin"], "user": {"uid": 0, "gid": 0}},
             "root": {"path": "rootfs"},
             "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                        {"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                        {"destination": "/opt", "type": "bind", "source": "/opt", "options": ["rbind", "ro"]},
                        {"destination": "\(bin)", "type": "bind", "source": "\(bin)", "options": ["rbind", "ro"]}],
             \(hooks)
             "linux": {"namespaces": \(namespaces), "cgroupsPath": "/\(cgroup)"}}
            """
            try AtomicFile.write(Array(config.utf8), to: directory + "/config.json")
        }

        func crun(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try ChildProcess(["/usr/bin/crun", "--cgroup-manager=cgroupfs"] + args).wait(timeout: 120)
        }

        /// `crun run -d`, its output in files so no pipe stays open in the container.
        func start() throws -> (status: Int32, stderr: String) {
            let result = try ChildProcess(["/bin/sh", "-c", "/usr/bin/crun --cgroup-manager=cgroupfs run -d --bundle \(directory) \(id) </dev/null >\(directory)/crun.out 2>\(directory)/crun.err"]).wait(timeout: 120)
            return (result.status, FileIO.read(directory + "/crun.err") ?? "")
        }

        func remove() {
            _ = try? crun(["delete", "-f", id])
            _ = try? ChildProcess(["/bin/umount", "-l", rootfs]).wait()
            TestEnvironment.removeTree(directory)
            TestEnvironment.removeCgroup(cgroup)
        }
    }

    static func hookEntries(_ stages: [String], dir: String) -> String {
        let bin = TestEnvironment.binDirectory
        let entries = stages.map { stage in
            #""\#(stage)": [{"path": "\#(bin)/cleave", "args": ["cleave", "hook", "\#(stage)"], "env": ["CLEAVE_HOOK_DIR=\#(dir)", "CLEAVE_EVENT_LOG=\#(dir)/events.log"], "timeout": 60}]"#
        }
        return #""hooks": {\#(entries.joined(separator: ", "))},"#
    }

    static func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let text = try #require(FileIO.read(path), "missing \(path)")
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    @Test("crun runs, kills and deletes a container; poststart records its cgroup, poststop reports, PID 1 gets the note")
    func hookedContainer() throws {
        let dir = "/tmp/cleave-test-crun-hooks-\(getpid())"
        defer { TestEnvironment.removeTree(dir) }
        let bundle = try CrunBundle(label: "pidns", pidNamespace: true, hooks: Self.hookEntries(["poststart", "poststop"], dir: dir))
        defer { bundle.remove() }

        let started = try bundle.start()
        #expect(started.status == 0, "crun: \(started.stderr)")
        let record = try Self.decode(PoststartRecord.self, "\(dir)/\(bundle.id).json")
        #expect(record.cgroup == "/sys/fs/cgroup/\(bundle.cgroup)")
        #expect(record.pidNamespaceInit)
        #expect(record.pidVerifiedBy == "runtime-state", "crun's own status file confirms the pid")
        // crun discards a hook's stderr by default; the note is in the event log.
        let notes = EventLog(path: dir + "/events.log").events().filter { $0.event == "hook-note" }.map(\.message)
        #expect(notes.contains { $0.contains("async teardown cannot shorten this container's stop") }, "notes: \(notes)")
        // Let the probe touch its memory before stopping it.
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: bundle.cgroup)
        #expect(TestEnvironment.eventually(timeout: 60) { ((try? cgroup.stats().memoryCurrent) ?? 0) ?? 0 > 60 << 20 })

        #expect(try bundle.crun(["kill", bundle.id, "KILL"]).status == 0)
        #expect(TestEnvironment.eventually(timeout: 30) { (try? bundle.crun(["state", bundle.id]).stdout.contains("\"stopped\"")) == true })
        // The teardown ends by itself (the helper frees, the cgroup empties) and the follower
        // writes what it saw; a delete before it runs leaves the report the follower's last
        // sample before the exit (docs/oci.md).
        #expect(TestEnvironment.eventually(timeout: 60) { access("\(dir)/\(bundle.id).teardown.json", F_OK) == 0 })
        let deleted = try bundle.crun(["delete", bundle.id])
        #expect(deleted.status == 0, "crun delete: \(deleted.stderr)")
        let report = try Self.decode(PoststopReport.self, "\(dir)/reports/\(bundle.id).json")
        #expect(report.cgroup == record.cgroup)
        #expect((report.memoryPeakBytes ?? 0) > 60 << 20, "peak: \(String(describing: report.memoryPeakBytes))")
        #expect((report.memoryBaselineBytes ?? 0) > 0)
        #expect((report.cpuUsageSeconds ?? 0) > 0)
        #expect(report.teardownSeconds != nil)
        #expect(report.pidNamespaceInit == true)
    }

    @Test("a bundle prepared with cleave prepare and no PID namespace gets a cleanup/* helper inside the container's cgroup")
    func preparedContainer() throws {
        let bundle = try CrunBundle(label: "prepared", pidNamespace: false, hooks: "")
        defer { bundle.remove() }
        defer { unlink("/run/cleave/hooks/reports/\(bundle.id).json") }
        let prepared = try ChildProcess([TestEnvironment.cleave, "prepare", "--bundle", bundle.directory,
                                         "--destination", "/cleave/libcleave-teardown.so"]).wait()
        #expect(prepared.status == 0, "stderr: \(prepared.stderr)")

        let started = try bundle.start()
        #expect(started.status == 0, "crun: \(started.stderr)")
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: bundle.cgroup)
        #expect(TestEnvironment.eventually(timeout: 30) {
            ((try? cgroup.processes()) ?? []).contains { ProcFS.comm($0)?.hasPrefix("cleanup/") == true }
        }, "processes: \(((try? cgroup.processes()) ?? []).map { "\($0) \(ProcFS.comm($0) ?? "?")" })")
        // The hooks prepare added use the default state directory.
        let record = try Self.decode(PoststartRecord.self, "/run/cleave/hooks/\(bundle.id).json")
        #expect(record.helperPresent)
        #expect(!record.pidNamespaceInit)
        #expect(TestEnvironment.eventually(timeout: 60) { ((try? cgroup.stats().memoryCurrent) ?? 0) ?? 0 > 60 << 20 })

        #expect(try bundle.crun(["kill", bundle.id, "KILL"]).status == 0)
        #expect(TestEnvironment.eventually(timeout: 30) { (try? bundle.crun(["state", bundle.id]).stdout.contains("\"stopped\"")) == true })
        #expect(TestEnvironment.eventually(timeout: 60) { access("/run/cleave/hooks/\(bundle.id).teardown.json", F_OK) == 0 })
        #expect(try bundle.crun(["delete", bundle.id]).status == 0)
        let report = try Self.decode(PoststopReport.self, "/run/cleave/hooks/reports/\(bundle.id).json")
        #expect(report.helperPresent == true)
        #expect((report.memoryPeakBytes ?? 0) > 60 << 20, "report: \(report)")
        #expect(report.teardownSeconds != nil)
    }
}
