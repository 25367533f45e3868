import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// How cleave runs beside its workload: a short EEVDF slice for the supervisor once the
/// workload runs (and nothing else of the scheduler changed), SCHED_IDLE for the standby
/// watcher's bookkeeping.
@Suite("supervisor and watcher scheduling", .serialized,
       .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
struct SupervisorPriorityTests {
    /// se.slice from /proc/<pid>/sched (Linux 6.6 and later), in ns.
    static func slice(_ pid: Int32) -> UInt64? {
        guard let text = FileIO.read("/proc/\(pid)/sched") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("se.slice") {
            return line.split(separator: ":").last.flatMap { UInt64($0.filter { $0 != " " }) }
        }
        return nil
    }

    static var kernelTakesCustomSlice: Bool {
        // 6.12 took sched_attr.sched_runtime as the slice of a SCHED_OTHER task.
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 && (parts[0], parts[1]) >= (6, 12)
    }

    /// cleave run with `prefix` before it, a workload that prints its pid and waits; returns
    /// (cleave, workload) once cleave's --state-file says running, which cleave writes after
    /// it has set its slice.
    /// A --state-file path; the caller unlinks it after cleave has exited (cleave writes it
    /// again at the end).
    private static func stateFile() -> String {
        "/tmp/cleave-test-slice-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
    }

    private static func start(_ prefix: [String], path: String, file: String) throws -> (ChildProcess, Int32) {
        let run = try ChildProcess(prefix + [TestEnvironment.cleave, "run", "--teardown", "sync", "--cgroup", path,
                                             "--state-file", file, "--", "sh", "-c", "echo $$; exec sleep 30"])
        let line = try #require(run.readLine(), "no pid from the workload")
        let workload = try #require(Int32(line))
        #expect(TestEnvironment.eventually(timeout: 10) { (try? RunState.read(from: file))?.status == .running },
                "cleave's state file never said running")
        return (run, workload)
    }

    @Test("cleave's supervisor runs with the 0.1 ms slice once the workload runs; the workload keeps the default")
    func supervisorSlice() throws {
        let path = TestEnvironment.uniqueCgroupPath("slice")
        defer { TestEnvironment.removeCgroup(path) }
        let file = Self.stateFile()
        defer { unlink(file) }
        let (run, workload) = try Self.start([], path: path, file: file)
        defer { kill(workload, SIGKILL); _ = try? run.wait(timeout: 30) }
        #expect(sched_getscheduler(run.pid) == SCHED_OTHER)
        if Self.kernelTakesCustomSlice {
            #expect(Self.slice(run.pid) == Runner.supervisorSliceNanoseconds,
                    "supervisor's slice: \(Self.slice(run.pid).map(String.init) ?? "?")")
            #expect(Self.slice(workload) != Runner.supervisorSliceNanoseconds, "the workload must keep its own slice")
        }
    }

    @Test("a supervisor started at nice 7 stays at nice 7; one started SCHED_BATCH stays batch with its slice")
    func managerChoiceKept() throws {
        let path = TestEnvironment.uniqueCgroupPath("slice-nice")
        defer { TestEnvironment.removeCgroup(path) }
        let file = Self.stateFile(), batchFile = Self.stateFile()
        defer { unlink(file); unlink(batchFile) }
        let (run, workload) = try Self.start(["/usr/bin/nice", "-n", "7"], path: path, file: file)
        if Self.kernelTakesCustomSlice { #expect(Self.slice(run.pid) == Runner.supervisorSliceNanoseconds) }
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(run.pid)) == 7)
        kill(workload, SIGKILL)
        _ = try run.wait(timeout: 30)

        let batchPath = TestEnvironment.uniqueCgroupPath("slice-batch")
        defer { TestEnvironment.removeCgroup(batchPath) }
        let (batch, batchWorkload) = try Self.start(["/usr/bin/chrt", "--batch", "0"], path: batchPath, file: batchFile)
        defer { kill(batchWorkload, SIGKILL); _ = try? batch.wait(timeout: 30) }
        #expect(sched_getscheduler(batch.pid) == 3 /* SCHED_BATCH */)
        if Self.kernelTakesCustomSlice { #expect(Self.slice(batch.pid) != Runner.supervisorSliceNanoseconds) }
    }

    /// cleave run --teardown async with `prefix` before it; the workload (sleep, exec'd by sh)
    /// and its helper once the helper is in the run's cgroup.
    private static func startAsync(_ prefix: [String], path: String) throws -> (run: ChildProcess, workload: Int32, helper: Int32) {
        let run = try ChildProcess(prefix + [TestEnvironment.cleave, "run", "--teardown", "async", "--cgroup", path, "--",
                                             "sh", "-c", "exec sleep 30 </dev/null >/dev/null 2>&1"])
        let cgroup = try Cgroup(mount: try #require(TestEnvironment.mount), path: path)
        guard let found = GCFixture.workloadAndHelper(in: cgroup, comm: "sleep") else {
            kill(run.pid, SIGTERM) // forwarded to the workload; cleave then exits
            _ = try? run.wait(timeout: 30)
            Issue.record("no helper appeared in \(path)")
            throw CleaveError.message("no helper")
        }
        return (run, found.workload, found.helper)
    }

    @Test("the teardown helper takes the longest slice (100 ms) at the workload's nice; a SCHED_BATCH workload's helper keeps its own")
    func helperSlice() throws {
        let path = TestEnvironment.uniqueCgroupPath("helper-slice")
        defer { TestEnvironment.removeCgroup(path) }
        let (run, workload, helper) = try Self.startAsync(["/usr/bin/nice", "-n", "5"], path: path)
        defer { kill(workload, SIGKILL); _ = try? run.wait(timeout: 30) }
        #expect(sched_getscheduler(helper) == SCHED_OTHER)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(helper)) == 5, "the helper keeps the workload's nice")
        if Self.kernelTakesCustomSlice {
            #expect(Self.slice(helper) == 100_000_000, "helper's slice: \(Self.slice(helper).map(String.init) ?? "?")")
            #expect(Self.slice(workload) != 100_000_000, "the workload keeps its own slice")
        }

        let batchPath = TestEnvironment.uniqueCgroupPath("helper-slice-batch")
        defer { TestEnvironment.removeCgroup(batchPath) }
        let batch = try Self.startAsync(["/usr/bin/chrt", "--batch", "0"], path: batchPath)
        defer { kill(batch.workload, SIGKILL); _ = try? batch.run.wait(timeout: 30) }
        #expect(sched_getscheduler(batch.helper) == 3 /* SCHED_BATCH */)
        if Self.kernelTakesCustomSlice { #expect(Self.slice(batch.helper) != 100_000_000) }
    }

    @Test("the standby watcher waits for the handover at SCHED_IDLE")
    func watcherWaitsIdle() throws {
        let path = TestEnvironment.uniqueCgroupPath("watcher-idle")
        defer { TestEnvironment.removeCgroup(path) }
        let (run, workload, _) = try Self.startAsync([], path: path)
        defer { kill(workload, SIGKILL); _ = try? run.wait(timeout: 30) }
        let cgroup = try Cgroup(mount: try #require(TestEnvironment.mount), path: path)
        let watcher = try #require(GCFixture.watcherPid(for: cgroup), "no standby watcher while the workload runs")
        #expect(TestEnvironment.eventually(timeout: 10) { sched_getscheduler(watcher) == 5 /* SCHED_IDLE */ },
                "watcher's policy: \(sched_getscheduler(watcher))")
        kill(workload, SIGKILL)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 137, "stderr: \(result.stderr)")
    }

    @Test("the standby watcher's bookkeeping runs at SCHED_IDLE and the watcher returns to SCHED_OTHER after it")
    func watcherYields() throws {
        var inside: Int32 = -1
        StandbyWatcher.yieldingToOthers { inside = sched_getscheduler(0) }
        #expect(inside == 5 /* SCHED_IDLE */)
        #expect(sched_getscheduler(0) == SCHED_OTHER)
    }
}
