import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave run` where the memory, cpu and pids controllers exist (the VM tier:
/// hack/vm.sh boots a pure cgroup v2 kernel and runs these).
@Suite("VMTier: cleave run with the memory controller",
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct RunVMTierTests {
    @Test("limits flags are written to the cgroup files")
    func limitsReadBack() throws {
        let path = TestEnvironment.uniqueCgroupPath("limits")
        defer { TestEnvironment.removeCgroup(path) }
        let dir = "/sys/fs/cgroup/\(path)"
        let script = "for f in memory.max memory.high memory.low memory.swap.max cpu.max cpu.weight pids.max; do printf '%s=%s\\n' $f \"$(cat \(dir)/$f)\"; done"
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path,
                                       "--memory-max", "64M", "--memory-high", "48M", "--memory-low", "1M",
                                       "--memory-swap-max", "0", "--cpus", "1.5", "--cpu-weight", "250",
                                       "--pids-max", "40", "--", "sh", "-c", script]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let values = Dictionary(uniqueKeysWithValues: result.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        })
        #expect(values["memory.max"] == String(64 << 20))
        #expect(values["memory.high"] == String(48 << 20))
        #expect(values["memory.low"] == String(1 << 20))
        #expect(values["memory.swap.max"] == "0")
        #expect(values["cpu.max"] == "150000 100000")
        #expect(values["cpu.weight"] == "250")
        #expect(values["pids.max"] == "40")
    }

    @Test("an OOM kill is reported and its status relayed")
    func oomKillReported() throws {
        let path = TestEnvironment.uniqueCgroupPath("oom")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--memory-max", "64M",
                                       "--memory-swap-max", "0", "--", TestEnvironment.cleave, "probe", "alloc", "256M"]).wait()
        #expect(result.status == 137, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("OOM killer"), "stderr: \(result.stderr)")
    }

    @Test("pids.max stops a fork bomb short and the workload still exits normally")
    func pidsMaxReached() throws {
        let path = TestEnvironment.uniqueCgroupPath("pids")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--pids-max", "1",
                                       "--", "sh", "-c", "echo started; exit 4"]).wait()
        // pids.max 1: the helper (a second task) cannot be created; the workload runs anyway.
        #expect(result.status == 4, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("started"))
        #expect(result.stderr.contains("cannot start the teardown helper"), "stderr: \(result.stderr)")
    }
}
