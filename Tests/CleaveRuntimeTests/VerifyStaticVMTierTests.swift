import Testing
import CleaveTestSupport

/// `cleave verify -- STATIC_PROGRAM` on a pure cgroup v2 kernel: a `gcc -static` program (no
/// PT_INTERP, so LD_PRELOAD cannot give it a helper) gets its helper by injection at exec and
/// the accounting is proved as for the probe: memory charged until the helper is gone, the
/// teardown's CPU in the cgroup.
@Suite("VMTier: cleave verify of a static program", .serialized,
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct VerifyStaticVMTierTests {
    static let MiB = 1_048_576.0

    @Test("a static program touching 256 MiB passes verify with its helper injected; async reaps far faster than sync")
    func staticProgram256M() throws {
        let program = try VerifyStaticFixture.built.get().staticPath
        let run = try VerifyStaticFixture.verify(["--size", "256M", "--mode", "both", "--", program, "256"])
        #expect(run.status == 0, "\(run.report.summary) \(run.stderr)")
        #expect(run.report.verdict == "pass")
        let async = try #require(run.report.mode("async"))
        #expect(async.checks.allSatisfy { $0.status == "pass" }, "\(async.checks.filter { $0.status != "pass" })")
        // The report shows the injection, and its helper is the one that held the memory.
        let helper = try #require(async.helper)
        #expect(helper.method == "injection")
        #expect(helper.reason?.hasPrefix("static ELF") == true)
        let injected = try #require(helper.injected, "the injection failed: \(run.stderr)")
        #expect(async.status("2.helper-injected") == "pass")
        #expect(async.helperPids == [injected.helper])
        // Charged before the end, still charged after the reap (the helper alone holds the
        // cgroup), released after it, and the teardown's CPU time is here.
        #expect(try #require(async.value("memory.process.before_end")) >= 0.9 * 256 * Self.MiB)
        #expect(try #require(async.value("memory.process.after_reap")) >= 0.9 * 256 * Self.MiB)
        #expect(async.value("cgroup.procs.after_reap") == 1)
        #expect(try #require(async.value("memory.process.final")) < 16 * Self.MiB)
        #expect(try #require(async.value("cpu.stat.system_usec.teardown")) > 0)
        #expect(async.status("4.teardown-cpu-charged") == "pass")
        let sync = try #require(run.report.mode("sync"))
        #expect(sync.helper == nil)
        #expect(sync.status("5.freed-before-reap") == "pass")
        let async_ms = try #require(async.value("exit_latency")), sync_ms = try #require(sync.value("exit_latency"))
        #expect(async_ms < 0.5 * sync_ms, "async exit \(async_ms) ms should be far below sync \(sync_ms) ms")
    }
}
