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

/// `--wait-memory` and `cleave wait-memory` on a temporary directory standing in for a cgroup
/// tree (the host has no memory controller): the headroom arithmetic, what counts as
/// releasing, the wait's outcomes, and the options.
@Suite("memory wait (host tier)")
struct MemoryWaitTests {
    static let mib: UInt64 = 1 << 20

    /// <root>/cleave/... with memory files written by the test, a meminfo file, a record directory.
    final class FakeTree {
        let root = "/tmp/cleave-test-wmem-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        var mount: CgroupMount { CgroupMount(mountPoint: root, isUnified: true) }
        var meminfo: String { root + "/meminfo" }
        var stateDirectory: String { root + "/records" }
        var helpers: [ChildProcess] = []

        init(nodeAvailable: UInt64 = 64 << 30) {
            AtomicFile.makeDirectories(stateDirectory)
            setNode(available: nodeAvailable)
        }
        deinit {
            for helper in helpers { kill(helper.pid, SIGKILL); _ = try? helper.wait() }
            TestEnvironment.removeTree(root)
        }

        func setNode(available: UInt64) {
            write("meminfo", "MemTotal:       \(128 << 20) kB\nMemFree:  1 kB\nMemAvailable:   \(available / 1024) kB\n")
        }

        func write(_ relative: String, _ text: String) {
            let path = root + "/" + relative
            AtomicFile.makeDirectories(String(path[..<path.lastIndex(of: "/")!]))
            try! AtomicFile.write(Array(text.utf8), to: path)
        }

        @discardableResult
        func cgroup(_ path: String, max: String? = nil, current: UInt64? = nil, inactiveFile: UInt64? = nil,
                    procs: [Int32] = []) -> Cgroup {
            if let max { write(path + "/memory.max", max + "\n") }
            if let current { write(path + "/memory.current", "\(current)\n") }
            if let inactiveFile { write(path + "/memory.stat", "anon 1\ninactive_file \(inactiveFile)\nactive_file 3\n") }
            write(path + "/cgroup.procs", procs.map { "\($0)\n" }.joined())
            write(path + "/cgroup.events", "populated \(procs.isEmpty ? 0 : 1)\nfrozen 0\n")
            return try! Cgroup(mount: mount, path: path)
        }

        /// A process whose comm says it is a teardown helper ("cleanup/<pid>"), as ManagedCgroups
        /// recognises one: a shell that renames itself (only a thread's own group may write its comm).
        func fakeHelper() throws -> Int32 {
            let child = try ChildProcess(["/bin/sh", "-c", "printf 'cleanup/%s' $$ > /proc/$$/comm; while :; do sleep 1; done"])
            helpers.append(child)
            guard TestEnvironment.eventually(timeout: 10, { ProcFS.comm(child.pid) == "cleanup/\(child.pid)" }) else {
                throw CleaveError.message("the fake helper did not rename itself (comm: \(ProcFS.comm(child.pid) ?? "?"))")
            }
            return child.pid
        }

        func wait(_ size: UInt64, below parent: String = "cleave", timeout: Duration = .seconds(5)) throws -> MemoryWait {
            var wait = MemoryWait(size: size, timeout: timeout, parent: try Cgroup(mount: mount, path: parent), listParent: "cleave")
            wait.stateDirectory = stateDirectory
            wait.meminfo = meminfo
            wait.progress = WaitProgress(style: .quiet)
            wait.rereadInterval = .milliseconds(100)
            return wait
        }
    }

    @Test("the headroom is the smallest over the limited ancestors (max − (current − inactive_file)) and MemAvailable")
    func headroomArithmetic() throws {
        let tree = FakeTree(nodeAvailable: 3000 * Self.mib)
        tree.cgroup("vms", max: "\(2048 * Self.mib)", current: 1800 * Self.mib, inactiveFile: 300 * Self.mib)   // 548 MiB
        tree.cgroup("vms/big", max: "max", current: 1000 * Self.mib)                                            // no limit
        let leaf = tree.cgroup("vms/big/pool", max: "\(1024 * Self.mib)", current: 400 * Self.mib)              // 624 MiB
        let headroom = try MemoryHeadroom.read(below: leaf, meminfo: tree.meminfo)
        #expect(headroom.cgroupHeadroom == 548 * Self.mib)
        #expect(headroom.limitingCgroup == tree.root + "/vms")
        #expect(headroom.nodeAvailable == 3000 * Self.mib)
        #expect(headroom.available == 548 * Self.mib)

        // The node is tighter; over the limit counts as none; a parent not made yet is skipped.
        tree.setNode(available: 100 * Self.mib)
        #expect(try MemoryHeadroom.read(below: leaf, meminfo: tree.meminfo).available == 100 * Self.mib)
        tree.cgroup("full", max: "\(100 * Self.mib)", current: 120 * Self.mib)
        #expect(try MemoryHeadroom.read(below: try Cgroup(mount: tree.mount, path: "full/not-yet"), meminfo: tree.meminfo)
            == MemoryHeadroom(cgroupHeadroom: 0, limitingCgroup: tree.root + "/full", nodeAvailable: 100 * Self.mib))
        // No limit anywhere and no meminfo: unlimited, not a made-up number.
        let free = try MemoryHeadroom.read(below: try Cgroup(mount: tree.mount, path: "vms/big"), meminfo: tree.root + "/none")
        #expect(free.cgroupHeadroom == 548 * Self.mib && free.nodeAvailable == nil)
        #expect(MemoryHeadroom().available == .max)
    }

    @Test("a memory.max that is not a size is an error naming the file")
    func badMemoryMax() throws {
        let tree = FakeTree()
        let bad = tree.cgroup("odd", max: "lots", current: 1)
        #expect { try MemoryHeadroom.read(below: bad, meminfo: tree.meminfo) } throws: { error in
            "\(error)".contains(tree.root + "/odd/memory.max")
        }
    }

    @Test("pending release: memory.current of the cgroups with only teardown helpers left, as cleave ps counts them")
    func pendingRelease() throws {
        let tree = FakeTree()
        let helper = try tree.fakeHelper()
        tree.cgroup("cleave", max: "max", current: 900 * Self.mib, procs: [])
        tree.cgroup("cleave/old", current: 512 * Self.mib, procs: [helper])
        tree.cgroup("cleave/busy", current: 300 * Self.mib, procs: [getpid(), helper])   // the workload still runs
        tree.cgroup("cleave/done", current: 4096, procs: [])
        let pending = try PendingRelease.read(parent: "cleave", mount: tree.mount, stateDirectory: tree.stateDirectory)
        #expect(pending == PendingRelease(bytes: 512 * Self.mib, cgroups: [tree.root + "/cleave/old"], unmeasured: 0))
        #expect(pending.summary == "512.0 MiB in 1 cgroup")

        let report = PSReport(cgroups: try ManagedCgroups.list(parent: "cleave", mount: tree.mount, stateDirectory: tree.stateDirectory),
                              meminfo: tree.meminfo)
        #expect(report.pendingRelease == pending)
        #expect(report.node?.memAvailable == 64 << 30)
        #expect(report.pendingLine.hasPrefix("pending release: 512.0 MiB in 1 cgroup; node MemAvailable 64.0 GiB"))
    }

    @Test("SIZE available: returns at once; not available and nothing releasing: fails at once, naming SIZE and what is there")
    func immediateOutcomes() throws {
        let tree = FakeTree()
        tree.cgroup("cleave", max: "\(1024 * Self.mib)", current: 700 * Self.mib)
        let fits = try tree.wait(300 * Self.mib).evaluate()
        #expect(fits.failure == nil && fits.available == 324 * Self.mib)

        let start = Clock.monotonicNanoseconds()
        let hopeless = try tree.wait(400 * Self.mib, timeout: .seconds(30)).evaluate()
        #expect(Clock.monotonicNanoseconds() - start < 5_000_000_000, "no wait when nothing is releasing")
        let message = try #require(hopeless.failure)
        #expect(message.contains("400.0 MiB") && message.contains("only 324.0 MiB available") && message.contains("waiting would not help"), "\(message)")
        #expect { try tree.wait(400 * Self.mib).wait() } throws: { ($0 as? CleaveError)?.exitCode == 125 }
    }

    @Test("a release that never comes: fails at the timeout, naming SIZE, what is available and what is pending")
    func timeout() throws {
        let tree = FakeTree()
        let helper = try tree.fakeHelper()
        tree.cgroup("cleave", max: "\(1024 * Self.mib)", current: 900 * Self.mib)
        tree.cgroup("cleave/old", current: 512 * Self.mib, procs: [helper])
        let start = Clock.monotonicNanoseconds()
        let outcome = try tree.wait(600 * Self.mib, timeout: .milliseconds(800)).evaluate()
        let elapsed = Double(Clock.monotonicNanoseconds() - start) / 1e9
        #expect(elapsed >= 0.8 && elapsed < 10, "\(elapsed)")
        let message = try #require(outcome.failure)
        #expect(message.contains("timed out") && message.contains("600.0 MiB") && message.contains("only 124.0 MiB available")
                && message.contains("512.0 MiB in 1 cgroup still pending release"), "\(message)")
    }

    @Test("waits while a teardown releases and returns once SIZE fits")
    func waitsForRelease() throws {
        let tree = FakeTree()
        let helper = try tree.fakeHelper()
        tree.cgroup("cleave", max: "\(1024 * Self.mib)", current: 900 * Self.mib)
        tree.cgroup("cleave/old", current: 512 * Self.mib, procs: [helper])
        // The helper is done 0.6 s from now: the cgroup empties and the parent's memory is back.
        let release = try ChildProcess(["/bin/sh", "-c", """
            sleep 0.6
            echo $((388 << 20)) > \(tree.root)/cleave/memory.current
            : > \(tree.root)/cleave/old/cgroup.procs
            printf 'populated 0\\nfrozen 0\\n' > \(tree.root)/cleave/old/cgroup.events
            """])
        defer { _ = try? release.wait() }
        let outcome = try tree.wait(600 * Self.mib, timeout: .seconds(30)).evaluate()
        #expect(outcome.failure == nil, "\(outcome.failure ?? "")")
        #expect(outcome.available == 636 * Self.mib)
        #expect(outcome.waitedSeconds >= 0.5 && outcome.waitedSeconds < 20, "\(outcome.waitedSeconds)")
    }

    @Test("release rate and estimate from successive pending readings; a rise is no release")
    func releaseRate() {
        var rate = ReleaseRate()
        #expect(rate.bytesPerSecond == nil && rate.estimate(needed: 1) == nil)
        rate.add(bytes: 1000 * Self.mib, atNanoseconds: 1_000_000_000)
        rate.add(bytes: 900 * Self.mib, atNanoseconds: 2_000_000_000)
        #expect(rate.bytesPerSecond == Double(100 * Self.mib))
        #expect(rate.estimate(needed: 250 * Self.mib) == 2.5)
        rate.add(bytes: 1200 * Self.mib, atNanoseconds: 3_000_000_000)   // a new teardown started
        #expect(rate.bytesPerSecond == Double(70 * Self.mib))
        let line = WaitProgress.line(size: 600 * Self.mib, available: 124 * Self.mib,
                                     pending: PendingRelease(bytes: 512 * Self.mib, cgroups: ["/x"]), rate: rate)
        #expect(line == "waiting for 600.0 MiB: 124.0 MiB available, 512.0 MiB in 1 cgroup pending release, releasing 70.0 MiB/s, about 7 s")
    }

    @Test("progress: on a terminal one line rewritten in place; otherwise plain lines at most every interval; nothing when no wait")
    func progressOutput() throws {
        func captured(_ style: WaitProgress.Style, _ body: (inout WaitProgress) -> Void) throws -> String {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw CleaveError.system(context: "pipe", SystemError("pipe")) }
            var progress = WaitProgress(style: style)
            progress.descriptor = fds[1]
            progress.plainInterval = 10_000_000_000
            body(&progress)
            close(fds[1])
            defer { close(fds[0]) }
            var out = [UInt8](), buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n <= 0 { break }
                out += buffer[..<n]
            }
            return String(decoding: out, as: UTF8.self)
        }
        let steps: (inout WaitProgress) -> Void = { p in
            p.update("a", nowNanoseconds: 1_000_000_000)
            p.update("b", nowNanoseconds: 2_000_000_000)
            p.update("c", nowNanoseconds: 12_000_000_000)
            p.finish("done")
        }
        #expect(try captured(.terminal, steps) == "\r\u{1b}[Kcleave: a\r\u{1b}[Kcleave: b\r\u{1b}[Kcleave: c\ncleave: done\n")
        #expect(try captured(.plain, steps) == "cleave: a\ncleave: c\ncleave: done\n")
        #expect(try captured(.quiet, steps) == "")
        #expect(try captured(.terminal) { $0.finish("done") } == "", "an immediate success prints nothing")
    }

    @Test("--wait-memory and --wait-timeout on both parsers; bad values are refused naming the option")
    func options() throws {
        let parsed = try #require(RunFlags.parseFast(["--wait-memory", "8G", "--wait-timeout=90s", "--", "true"]))
        #expect(parsed.waitMemory == "8G" && parsed.waitTimeout == "90s")
        #expect(try parsed.request().memoryWait == RunRequest.MemoryWaitRequest(size: 8 << 30, timeout: .seconds(90)))
        var defaults = RunFlags()
        defaults.waitMemory = "1M"
        #expect(try defaults.request().memoryWait?.timeout == .seconds(300))
        #expect(try RunFlags().request().memoryWait == nil)
        #expect(RunFlags.parseFast(["--wait-memory", "1G", "--wait-memory", "2G", "--", "true"]) == nil)

        for (size, timeout, needle) in [("8Q", nil, "--wait-memory"), ("", nil, "--wait-memory"), ("1G", "soon", "--wait-timeout"),
                                        ("1G", "2y", "--wait-timeout"), (nil, "5s", "--wait-timeout applies to --wait-memory")] as [(String?, String?, String)] {
            var options = RunFlags()
            options.waitMemory = size
            options.waitTimeout = timeout
            #expect { try options.request() } throws: { "\($0)".contains(needle) }
        }
    }

    @Test("bad input on the command line: exit 125 with the option named, nothing run", arguments: [
        (["run", "--wait-memory", "8Q", "--", "/bin/echo", "ran"], "--wait-memory"),
        (["run", "--wait-timeout", "5s", "--", "/bin/echo", "ran"], "--wait-memory"),
        (["run", "--wait-memory", "1G", "--wait-timeout", "-1s", "--", "/bin/echo", "ran"], "--wait-timeout"),
        (["wait-memory", "lots"], "wait-memory SIZE"),
        (["wait-memory", "1G", "--timeout", "forever"], "--timeout"),
        (["wait-memory", "1G", "--cgroup", "a/../b"], "--cgroup"),
        (["wait-memory", "1G", "--cgroup", "/"], "root"),
    ])
    func badInput(args: [String], needle: String) throws {
        let result = try ChildProcess([TestEnvironment.cleave] + args).wait()
        #expect(result.status == 125, "\(args): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(needle), "\(args): \(result.stderr)")
        #expect(!result.stdout.contains("ran"))
    }
}
