import Glibc
import Testing
import CleaveSystem
import CleaveTestSupport

/// `cleave probe` links the helper: when LD_PRELOAD asks for libcleave-teardown.so but the
/// loader cannot bring it in (a static cleave; here a path that does not exist, which the
/// dynamic loader ignores just as a static program never reads it), the probe starts the
/// helper itself. Where the library did load, or a helper is already there, it adds none.
@Suite("the probe's linked helper")
struct ProbeLinkedHelperTests {
    /// The probe's helpers (children named cleanup/<pid>) once it said `ready`.
    private static func helpers(preload: String) throws -> (count: Int, stderr: String) {
        let probe = try ChildProcess([TestEnvironment.cleave, "probe", "alloc", "16M"],
                                     environment: ["LD_PRELOAD": preload, "CLEAVE_TEARDOWN_PID": "", "CLEAVE_TEARDOWN": "",
                                                   "CLEAVE_TEARDOWN_INHERIT": ""])
        defer { kill(probe.pid, SIGKILL); _ = probe.exitStatus(timeout: 30) }
        let line = try #require(probe.readLine(timeout: 60), "the probe printed no ready line")
        #expect(line == "ready \(probe.pid)")
        // The helper is started before the allocation, so before the ready line: it is there now.
        let name = "cleanup/\(probe.pid)"
        let count = ProcFS.children(of: probe.pid).filter { ProcFS.comm($0) == name }.count
        kill(probe.pid, SIGKILL)
        _ = probe.exitStatus(timeout: 30)
        return (count, (try? probe.wait(timeout: 10))?.stderr ?? "")
    }

    @Test("LD_PRELOAD names the library but it did not load: the probe starts its own helper")
    func unloadablePreloadGetsLinkedHelper() throws {
        let missing = "/nonexistent-cleave-test-\(getpid())/libcleave-teardown.so"
        let result = try Self.helpers(preload: missing)
        #expect(result.count == 1, "helpers: \(result.count); stderr: \(result.stderr)")
    }

    @Test("the library loaded: its helper only, the probe adds none")
    func loadedPreloadKeepsOneHelper() throws {
        let result = try Self.helpers(preload: TestEnvironment.teardownLibrary)
        #expect(result.count == 1, "helpers: \(result.count); stderr: \(result.stderr)")
    }

    @Test("no preload asked (sync): no helper")
    func noPreloadNoHelper() throws {
        let result = try Self.helpers(preload: "")
        #expect(result.count == 0, "helpers: \(result.count); stderr: \(result.stderr)")
    }

    @Test("a helper injected at exec (cleave run --inject) and LD_PRELOAD naming a library that did not load: the probe adds none",
          .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
    func injectedHelperKeepsOneHelper() throws {
        let path = TestEnvironment.uniqueCgroupPath("probe-injected")
        defer { TestEnvironment.removeCgroup(path) }
        let missing = "/nonexistent-cleave-test-\(getpid())/libcleave-teardown.so"
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "async", "--inject", "--cgroup", path, "--",
                                    TestEnvironment.cleave, "probe", "alloc", "16M"],
                                   environment: ["LD_PRELOAD": missing])
        defer { _ = try? run.wait(timeout: 30) }
        let line = try #require(run.readLine(timeout: 60), "the probe printed no ready line")
        let pid = try #require(Int32(line.dropFirst("ready ".count)), "ready line: \(line)")
        defer { kill(pid, SIGKILL) }
        // The injected helper exists before the probe's first instruction; the probe's own would
        // be started before its ready line. So the count is final now.
        let name = "cleanup/\(pid)"
        let count = ProcFS.children(of: pid).filter { ProcFS.comm($0) == name }.count
        #expect(count == 1, "helpers of the probe: \(count)")
    }
}
