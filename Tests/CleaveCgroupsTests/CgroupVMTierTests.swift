@testable import CleaveCgroups
import Foundation
import Glibc
import Testing

let memoryControllerAvailable = ((try? hostMount?.availableControllers()) ?? nil)?.contains("memory") ?? false

/// Needs the memory, cpu and pids controllers: runs in the VM tier.
@Suite("VMTier: cgroup limits and memory accounting",
       .enabled(if: memoryControllerAvailable, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct CgroupVMTierTests {
    @Test("limits are written and read back")
    func limitsRoundTrip() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("limits"))
        defer { removeTestCgroup(cgroup) }
        let limits = ResourceLimits(memoryMax: .value(64 << 20), memoryHigh: .value(48 << 20), memoryLow: .value(1 << 20),
                                    cpuMax: CPUMax(quota: 50_000, period: 100_000), cpuWeight: 250, pidsMax: .value(64))
        try cgroup.create(enabling: limits.requiredControllers)
        try cgroup.apply(limits)
        let back = try cgroup.readLimits()
        #expect(back.memoryMax == .value(64 << 20))
        #expect(back.memoryHigh == .value(48 << 20))
        #expect(back.memoryLow == .value(1 << 20))
        #expect(back.cpuMax == CPUMax(quota: 50_000, period: 100_000))
        #expect(back.cpuWeight == 250)
        #expect(back.pidsMax == .value(64))
        try cgroup.apply(ResourceLimits(memoryMax: .max, pidsMax: .max))
        #expect(try cgroup.readLimits().memoryMax == .max)
    }

    @Test("a process touching 100 MiB is charged for it; the cgroup is removed after it exits")
    func memoryCharged() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("charge"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create(enabling: ["memory"])
        // A shell that waits for us, placed before it allocates: python touches 100 MiB after reading a line.
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0]
        #expect(pipe(&inPipe) == 0 && pipe(&outPipe) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        let script = "import sys; sys.stdin.readline(); b = bytearray(100 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint('done', flush=True); sys.stdin.readline()"
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/usr/bin/python3"), strdup("-c"), strdup(script), nil]
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, "/usr/bin/python3", &actions, nil, argv, environ) == 0)
        argv.forEach { free($0) }
        posix_spawn_file_actions_destroy(&actions)
        close(inPipe[0]); close(outPipe[1])
        defer { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0); close(inPipe[1]); close(outPipe[0]) }

        try cgroup.write("cgroup.procs", String(pid))
        _ = write(inPipe[1], "go\n", 3)
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(outPipe[0], &buf, buf.count)
        #expect(n > 0 && String(decoding: buf[0..<max(n, 0)], as: UTF8.self).hasPrefix("done"))
        let stats = try cgroup.stats()
        #expect((stats.memoryCurrent ?? 0) > 100 << 20, "memory.current \(stats.memoryCurrent ?? 0)")
        #expect((stats.anon ?? 0) > 100 << 20)

        kill(pid, SIGKILL)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
        #expect(try cgroup.waitUntilEmpty(timeout: .seconds(10)))
        try cgroup.remove()
        #expect(!cgroup.exists)
    }
}
