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

/// Faults that need the memory and pids controllers (the VM tier: hack/vm.sh).
@Suite("VMTier: faults with the memory and pids controllers",
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct FaultVMTierTests {
    @Test("memory.max reached: the OOM kill is reported, 137 relayed, the state says so, and nothing is left")
    func oomKillLeavesNothing() throws {
        let fx = GCFixture("oom")
        defer { fx.cleanup() }
        let stateFile = fx.stateDirectory + "/user-state.out"
        let run = try fx.run("w", ["--memory-max", "64M", "--state-file", stateFile],
                             [TestEnvironment.cleave, "probe", "alloc", "256M"])
        let result = try run.wait(timeout: 120)
        #expect(result.status == 137, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("OOM killer"), "stderr: \(result.stderr)")
        let state = try RunState.read(from: stateFile)
        #expect(state.oomKilled == true && state.signal == SIGKILL && state.exitCode == 137)
        try fx.expectNothingLeft(try fx.cgroup("w"), timeout: 30)
    }

    @Test("pids.max reached by a spawning workload: forks fail, cleave relays the failure, returns, and the cgroup goes")
    func pidsMaxForkStorm() throws {
        let fx = GCFixture("pids")
        defer { fx.cleanup() }
        // Twenty background sleeps against pids.max 5 (the shell and its helper take two).
        let started = Clock.monotonicNanoseconds()
        let run = try fx.run("w", ["--pids-max", "5", "--teardown-timeout", "1s"],
                             GCFixture.detached(["sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; wait"]))
        let result = try run.wait(timeout: 60)
        #expect(result.status != 0 && result.status < 125, "the shell's own failure, not cleave's: \(result.status) \(result.stderr)")
        #expect(Double(Clock.monotonicNanoseconds() - started) / 1e9 < 20, "cleave must not wait for the sleeps")
        let cgroup = try fx.cgroup("w")
        // The sleeps that did start outlive the shell; the watcher kills them after the timeout.
        #expect(TestEnvironment.eventually(timeout: 30) { !cgroup.exists })
        #expect(fx.events().contains("teardown-timeout"), "events: \(fx.events())")
        #expect(TestEnvironment.eventually { fx.records().isEmpty })
    }
}
