import Testing
import CleaveTestSupport

/// The agent where the memory controller exists (the VM tier: hack/test.sh
/// runs the suites named VMTier… inside a pure cgroup v2 guest).
@Suite("VMTier: cleave agent teardown metrics",
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct AgentVMTierTests {
    @Test("cleave run --teardown async of a 256 MiB probe: one teardown in progress holding ~256 MiB, then none and one duration observed")
    func heldTeardown() throws {
        try TeardownScenario.run(expectMemory: true)
    }
}
