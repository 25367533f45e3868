import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// A cgroup path never leaves the cgroup2 mount or the configured parent, whatever the
/// command line, a run record or the host filesystem says. (CgroupPath.validate's own
/// cases are in CleaveCgroupsTests/MountinfoTests; the helper's empty fd table is checked
/// in RunHostTests and AsyncTeardownTests.)
@Suite("Security: cgroup paths stay below the mount and the parent (host tier)",
       .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct SecurityTests {
    @Test("cleave run --cgroup refuses paths that climb out or are ambiguous, with exit 125 and nothing created", arguments: [
        "cleave-test/../../escape", "/../escape", "cleave-test/a/../../../escape", "cleave-test/./x", "cleave-test//x", "..",
        "../\u{301}escape", "cleave-test/../\u{301}../\u{301}escape",   // a combining mark after "/" must not hide it
    ])
    func runRefusesEscapes(path: String) throws {
        let mount = try #require(TestEnvironment.mount)
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "true"]).wait()
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("validate"), "stderr: \(result.stderr)")
        #expect(access(mount.mountPoint + "/escape", F_OK) != 0)
        let above = mount.mountPoint.split(separator: "/").dropLast().joined(separator: "/")
        #expect(access("/" + above + "/escape", F_OK) != 0)
    }

    @Test("an absolute --cgroup is relative to the cgroup2 mount, not to the filesystem root")
    func absolutePathIsBelowTheMount() throws {
        let path = "/" + TestEnvironment.uniqueCgroupPath("abs")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "cat", "/proc/self/cgroup"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").contains("0::\(path)"))
    }

    @Test("symlinks cannot redirect a cgroup: cgroupfs refuses them, and a host symlink named like the path is not followed")
    func symlinksAreNotFollowed() throws {
        let mount = try #require(TestEnvironment.mount)
        let path = TestEnvironment.uniqueCgroupPath("sym")
        defer { TestEnvironment.removeCgroup(path) }
        // cgroupfs has no symlinks.
        let parent = try Cgroup(mount: mount, path: "cleave-test")
        try parent.create()
        #expect(symlink("/tmp", parent.path + "/sym-link") != 0 && errno == EPERM)

        // A directory named like the cgroup path, relative to cleave's cwd, is a symlink to a decoy.
        var template = Array("/tmp/cleave-test-sym-XXXXXX".utf8CString)
        let base = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let decoy = base + "/decoy"
        let link = base + "/" + path
        defer { unlink(link); rmdir(base + "/cleave-test"); rmdir(decoy); rmdir(base) }
        #expect(mkdir(decoy, 0o755) == 0 && mkdir(base + "/cleave-test", 0o755) == 0 && symlink(decoy, link) == 0)
        let result = try ChildProcess(["/bin/sh", "-c", "cd \"$0\" && exec \"$1\" run --cgroup \"$2\" -- cat /proc/self/cgroup",
                                       base, TestEnvironment.cleave, path]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").contains("0::/\(path)"))
        #expect(opendir(decoy).map { dir -> Bool in
            defer { closedir(dir) }
            var names = 0
            while readdir(dir) != nil { names += 1 }
            return names == 2   // "." and ".."
        } == true, "the decoy stays empty")
    }

    @Test("the teardown watcher refuses a cgroup outside the mount", arguments: ["/../../../tmp", "/../unified-x", "X"])
    func watcherRefusesOutsideTheMount(suffix: String) throws {
        let mount = try #require(TestEnvironment.mount)
        let log = "/tmp/cleave-test-watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        let result = try ChildProcess([TestEnvironment.cleave, "__watch-teardown", "--cgroup", mount.mountPoint + suffix,
                                       "--timeout-ms", "10", "--log", log]).wait()
        #expect(result.status == 1)
        #expect(EventLog(path: log).events().map(\.event) == ["watch-error"])
    }

    @Test("gc and ps refuse a parent that climbs out or is the root", arguments: [
        (["gc", "--parent", "../x"], "'..'"), (["gc", "--parent", "/"], "root"), (["ps", "--parent", "cleave/../.."], "'..'"),
    ])
    func parentMustStayBelow(args: [String], mentions: String) throws {
        let result = try ChildProcess([TestEnvironment.cleave] + args).wait()
        #expect(result.status != 0)
        #expect(result.stderr.contains(mentions), "stderr: \(result.stderr)")
    }

    @Test("gc never removes what a forged record names outside the cgroup2 mount", arguments: ["/tmp/VICTIM", "MOUNT/UP/tmp/VICTIM"])
    func gcIgnoresRecordsOutsideTheMount(forged: String) throws {
        let mount = try #require(TestEnvironment.mount)
        let fx = GCFixture("forged")
        defer { fx.cleanup() }
        let victim = "/tmp/cleave-test-victim-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdir(victim, 0o755) == 0)
        defer { rmdir(victim) }
        let target = forged.replacingOccurrences("VICTIM", String(victim.dropFirst("/tmp/".count)))
            .replacingOccurrences("MOUNT", mount.mountPoint)
            .replacingOccurrences("/UP", String(repeating: "/..", count: mount.mountPoint.split(separator: "/").count))
        let json = #"{"id":"forged","name":"forged","cgroup":"\#(target)","helperPids":[],"teardown":"async","#
            + #""status":"running","createdAt":0,"supervisorPid":2147483646}"#
        try AtomicFile.write(Array(json.utf8), to: fx.stateDirectory + "/forged-1.json")
        let gc = try fx.gc(["--force"])
        #expect(gc.status == 2, "\(gc.findings) \(gc.stderr)")
        #expect(gc.findings.contains { $0.action == "failed" && $0.path == target }, "\(gc.findings)")
        #expect(access(victim, F_OK) == 0, "the directory outside the mount is untouched")
        #expect(access(fx.stateDirectory + "/forged-1.json", F_OK) == 0, "the record stays while its path is unresolved")
    }
}

