import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave verify --teardown-workers N`: the workers the parallel release starts are
/// seen and counted, and (VM tier) the memory is back and their CPU time is charged.
@Suite("cleave verify --teardown-workers (host tier)", .serialized,
       .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
struct ParallelReleaseVerifyTests {
    @Test("with 2 workers verify sees one worker beside the helper (4.release-workers); with 1 it sees none and makes no such check")
    func countsWorkers() throws {
        let two = try runVerify(["--size", "1G", "--mode", "async", "--teardown-workers", "2"])
        let async2 = try #require(two.report.mode("async"), "\(two.stderr)")
        #expect(async2.value("teardown_workers_seen") == 1, "\(two.report.summary) \(two.stderr)")
        #expect(async2.status("4.release-workers") == "pass")
        #expect(async2.status("4.populated-0") == "pass")
        let one = try runVerify(["--size", "256M", "--mode", "async", "--teardown-workers", "1"])
        let async1 = try #require(one.report.mode("async"), "\(one.stderr)")
        #expect(async1.value("teardown_workers_seen") == 0)
        #expect(async1.status("4.release-workers") == nil)
    }

    @Test("verify --teardown-workers out of range: exit 125 naming the option, before anything runs")
    func refusesBadCount() throws {
        let result = try ChildProcess([TestEnvironment.cleave, "verify", "--mode", "async", "--teardown-workers", "65"]).wait()
        #expect(result.status == 125)
        #expect(result.stderr.contains("--teardown-workers"), "stderr: \(result.stderr)")
    }
}

@Suite("VMTier: parallel release", .serialized,
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2 (VM tier)"))
struct ParallelReleaseVMTierTests {
    @Test("with 2 workers the memory is back (memory.current near the baseline), the worker was seen, and the teardown's CPU time is in the cgroup's cpu.stat")
    func memoryFreed() throws {
        let (status, report, stderr) = try runVerify(["--size", "512M", "--mode", "async", "--teardown-workers", "2"])
        #expect(status == 0, "\(report.summary) \(stderr)")
        let async = try #require(report.mode("async"))
        #expect(async.value("teardown_workers_seen") == 1)
        #expect(async.status("4.release-workers") == "pass")
        #expect(async.status("4.memory-released") == "pass")
        #expect(try #require(async.value("memory.current.final")) < 16 * 1_048_576)
        #expect(try #require(async.value("cpu.stat.usage_usec.teardown")) > 0)
    }
}
