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

/// `--wait-memory` against a real teardown (the VM tier: hack/vm.sh, memory controller): a
/// 512 MiB teardown held frozen, so its memory stays charged until the test thaws it.
@Suite("VMTier: --wait-memory and cleave wait-memory",
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct MemoryWaitVMTierTests {
    static let mib: UInt64 = 1 << 20

    @Test("a 512 MiB teardown held frozen keeps a --wait-memory start waiting until it is thawed; short timeouts exit 125; ps shows it pending")
    func frozenTeardownHoldsTheStart() throws {
        let fx = GCFixture("wmem")
        defer { fx.cleanup() }
        let old = try fx.run("old", [], [TestEnvironment.cleave, "probe", "alloc", "512M"])
        let line = try #require(old.readLine(timeout: 120), "the probe never said ready")
        let workload = try #require(Int32(line.dropFirst("ready ".count)), "ready line: \(line)")
        let oldCgroup = try fx.cgroup("old")
        let parent = try Cgroup(mount: TestEnvironment.mount!, path: fx.parent)
        let current = try #require(try parent.read("memory.current").flatMap { UInt64($0.trimmed()) }, "no memory.current in \(parent.path)")
        // 128 MiB of room now: 384 MiB fits below the parent only once the 512 MiB are back.
        let limit = current + 128 * Self.mib
        try parent.write("memory.max", "\(limit)")

        // Hold the teardown: a frozen helper cannot free; SIGKILL still ends the frozen workload.
        #expect(try GCFixture.freeze(oldCgroup))
        kill(workload, SIGKILL)
        #expect(try old.wait(timeout: 60).status == 137)
        #expect(TestEnvironment.eventually(timeout: 20) { ManagedCgroups.describe(oldCgroup)?.state == .tearingDown })

        // cleave ps: the frozen teardown's memory is the pending release.
        let ps = try ChildProcess([TestEnvironment.cleave, "ps", "--json", "--parent", fx.parent], environment: fx.environment).wait()
        let report = try JSONDecoder().decode(PSReport.self, from: Data(ps.stdout.utf8))
        #expect(report.pendingRelease.cgroups == [oldCgroup.path])
        #expect(report.pendingRelease.bytes >= 500 * Self.mib, "\(report.pendingRelease)")

        // cleave wait-memory with a short timeout: 125, naming SIZE, what is available and what is pending.
        let timedOut = try ChildProcess([TestEnvironment.cleave, "wait-memory", "384M", "--cgroup", fx.parent, "--timeout", "2s",
                                         "--json", "--state-dir", fx.stateDirectory], environment: fx.environment).wait(timeout: 60)
        #expect(timedOut.status == 125, "\(timedOut.stderr)")
        #expect(timedOut.stderr.contains("384.0 MiB") && timedOut.stderr.contains("timed out")
                && timedOut.stderr.contains("pending release"), "\(timedOut.stderr)")
        let outcome = try JSONDecoder().decode(MemoryWait.Outcome.self, from: Data(timedOut.stdout.utf8))
        #expect(outcome.pending.cgroups == [oldCgroup.path] && outcome.available < 384 * Self.mib, "\(outcome)")
        #expect(outcome.headroom.limitingCgroup == parent.path)

        // cleave run --wait-memory with a short timeout: 125 and nothing started.
        let refused = try fx.run("new", ["--wait-memory", "384M", "--wait-timeout", "2s"], ["/bin/echo", "started"]).wait(timeout: 60)
        #expect(refused.status == 125, "\(refused.stderr)")
        #expect(refused.stderr.contains("timed out") && !refused.stdout.contains("started"), "\(refused.stdout) \(refused.stderr)")
        let newCgroup = try fx.cgroup("new")
        #expect(!newCgroup.exists)

        // The real wait: its stderr to a file, so that its progress line can be seen while it waits.
        let progress = fx.stateDirectory + "/wait.err"
        let waiting = try ChildProcess(["/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\(progress)", TestEnvironment.cleave, "run",
                                        "--cgroup", fx.cgroupPath("new"), "--wait-memory", "384M", "--wait-timeout", "300s",
                                        "--", "/bin/sh", "-c", "cat \(parent.path)/memory.current"], environment: fx.environment)
        let sawProgress = TestEnvironment.eventually(timeout: 120) { FileIO.read(progress)?.contains("waiting for 384.0 MiB") == true }
        #expect(sawProgress, "no progress line: \(FileIO.read(progress) ?? "")")
        // Still waiting a moment later: no cgroup, no workload, the teardown still holds the memory.
        usleep(1_000_000)
        #expect(ProcFS.isAlive(waiting.pid) && !newCgroup.exists, "the run started while 512 MiB were still charged")
        #expect(ManagedCgroups.describe(oldCgroup)?.state == .tearingDown)
        // ...and starts once the teardown, thawed, has given the memory back.
        try oldCgroup.freeze(false)
        let result = try waiting.wait(timeout: 240)
        let stderr = FileIO.read(progress) ?? ""
        #expect(result.status == 0, "\(stderr)")
        let seen = try #require(UInt64(result.stdout.trimmed()), "workload printed '\(result.stdout)'")
        #expect(seen + 256 * Self.mib < limit, "the workload started with \(seen) of \(limit) charged")
        #expect(stderr.contains("available after"), "\(stderr)")
        print("wait-memory progress (VM):\n\(stderr)")
    }
}
