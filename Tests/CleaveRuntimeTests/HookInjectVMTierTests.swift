import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveTestSupport

/// Debian's real crun with `cleave hook poststart --inject` in config.json and no `cleave
/// prepare` (no LD_PRELOAD, no library mount): the container's static process gets its helper
/// from the hook. As in CrunVMTierTests the rootfs is a tmpfs with the host's /usr and cleave's
/// bin directory bind-mounted read-only, plus the fixture's directory.
@Suite("VMTier: crun with cleave hook poststart --inject", .serialized,
       .enabled(if: TestEnvironment.hasMemoryController && access("/usr/bin/crun", X_OK) == 0,
                "needs the memory controller and /usr/bin/crun: run through hack/test.sh (VM tier)"))
struct HookInjectVMTierTests {
    private static let built = CFixture.build("hook_target", flags: ["-O1", "-static"])

    /// A crun bundle whose process is the static fixture holding 64 MiB; `remove()` deletes the
    /// container, the rootfs mount, the bundle and the cgroup.
    struct Bundle {
        let id: String
        let directory: String
        let cgroup: String
        var rootfs: String { directory + "/rootfs" }

        init(pidNamespace: Bool, hooksDirectory: String) throws {
            let fixture = try HookInjectVMTierTests.built.get()
            let fixtureDirectory = String(fixture[..<fixture.lastIndex(of: "/")!])
            id = "inject-\(pidNamespace ? "pidns" : "hostpid")-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            directory = "/tmp/cleave-test-crun-\(id)"
            cgroup = "cleave-test-crun/\(id)"
            let bin = TestEnvironment.binDirectory
            _ = try ChildProcess(["/bin/mkdir", "-p", rootfs]).wait()
            _ = try ChildProcess(["/bin/mount", "-t", "tmpfs", "tmpfs", rootfs]).wait()
            _ = try ChildProcess(["/bin/sh", "-c", "cd \(rootfs) && mkdir -p usr proc dev tmp .\(bin) .\(fixtureDirectory) && ln -s usr/bin bin && ln -s usr/lib lib && ln -s usr/lib64 lib64"]).wait()
            let namespaces = pidNamespace ? #"[{"type": "pid"}, {"type": "mount"}]"# : #"[{"type": "mount"}]"#
            let env = #"["CLEAVE_HOOK_DIR=\#(hooksDirectory)", "CLEAVE_EVENT_LOG=\#(hooksDirectory)/events.log"]"#
            let config = """
            {"ociVersion": "1.0.2",
             "process": {"args": ["\(fixture)", "64", "0", "hold"], "cwd": "/", "env": ["PATH=/usr/bin:/bin"], "user": {"uid": 0, "gid": 0}},
             "root": {"path": "rootfs"},
             "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                        {"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                        {"destination": "\(bin)", "type": "bind", "source": "\(bin)", "options": ["rbind", "ro"]},
                        {"destination": "\(fixtureDirectory)", "type": "bind", "source": "\(fixtureDirectory)", "options": ["rbind", "ro"]}],
             "hooks": {"poststart": [{"path": "\(bin)/cleave", "args": ["cleave", "hook", "poststart", "--inject"], "env": \(env), "timeout": 60}],
                       "poststop": [{"path": "\(bin)/cleave", "args": ["cleave", "hook", "poststop"], "env": \(env), "timeout": 60}]},
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

    /// Without a PID namespace the helper is named for the host pid; with one, for the
    /// container's own pid 1 (the name the target gives it), and the PID-namespace note stays.
    @Test("a crun container with the hook in inject mode has a cleanup/<pid> helper in its cgroup", arguments: [false, true])
    func injectedContainer(pidNamespace: Bool) throws {
        let dir = "/tmp/cleave-test-crun-inject-hooks-\(getpid())-\(pidNamespace)"
        defer { TestEnvironment.removeTree(dir) }
        let bundle = try Bundle(pidNamespace: pidNamespace, hooksDirectory: dir)
        defer { bundle.remove() }

        let started = try bundle.start()
        try #require(started.status == 0, "crun: \(started.stderr)")
        let record = try CrunVMTierTests.decode(PoststartRecord.self, "\(dir)/\(bundle.id).json")
        let events = { EventLog(path: dir + "/events.log").events().map { "\($0.event): \($0.message)" } }
        #expect(record.injection?.outcome == "injected", "record: \(record), events: \(events())")
        #expect(record.helperPresent)
        #expect(record.pidNamespaceInit == pidNamespace)
        #expect(record.notes.contains { $0.contains("async teardown cannot shorten this container's stop") } == pidNamespace, "\(record.notes)")
        let name = "cleanup/\(pidNamespace ? 1 : record.pid)"
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: bundle.cgroup)
        #expect(TestEnvironment.eventually(timeout: 30) {
            ((try? cgroup.processes()) ?? []).contains { ProcFS.comm($0) == name && ProcFS.parentPid($0) == record.pid }
        }, "processes: \(((try? cgroup.processes()) ?? []).map { "\($0) \(ProcFS.comm($0) ?? "?")" })")
        #expect(record.injection?.helperPid.map { ProcFS.comm($0) == name } == true, "record: \(record)")
        #expect(TestEnvironment.eventually(timeout: 60) { ((try? cgroup.stats().memoryCurrent) ?? 0) ?? 0 > 60 << 20 })

        #expect(try bundle.crun(["kill", bundle.id, "KILL"]).status == 0)
        #expect(TestEnvironment.eventually(timeout: 30) { (try? bundle.crun(["state", bundle.id]).stdout.contains("\"stopped\"")) == true })
        let deleted = try bundle.crun(["delete", bundle.id])
        #expect(deleted.status == 0, "crun delete: \(deleted.stderr)")
        let report = try CrunVMTierTests.decode(PoststopReport.self, "\(dir)/reports/\(bundle.id).json")
        #expect(report.helperPresent == true)
        #expect(report.teardownSeconds != nil, "report: \(report)")
    }
}
