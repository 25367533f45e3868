import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave attach`: a running process gets a teardown helper by ptrace injection.
@Suite("cleave attach (injection)", .serialized)
struct AttachTests {
    /// The static fixture, its main thread waiting in `mode` (the thread attach stops), and
    /// workers in the other waits: attach gives it a confined helper, and every wait ends as
    /// it would have (the fixture exits 7 only then).
    @Test("a static multi-threaded program gets a helper and its system calls return what they would", arguments: ["read", "nanosleep", "futex", "busy"])
    func staticProgram(mode: String) throws {
        let target = try ChildProcess([try InjectFixture.path(), mode, "64"])
        let ready = try #require(target.readLine(timeout: 30))
        #expect(ready == "ready \(target.pid)")
        let before = FileIO.read("/proc/\(target.pid)/maps") ?? ""
        let attached = try InjectFixture.attach(target.pid)
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        let report = try #require(attached.report)
        #expect(report.pid == target.pid && report.thread == target.pid)
        let helper = report.helper
        #expect(ProcFS.comm(helper) == "cleanup/\(target.pid)")
        #expect(ProcFS.parentPid(helper) == target.pid)
        #expect(report.cgroup != nil && report.cgroup == ProcFS.cgroupPath(target.pid))
        #expect(InjectFixture.helpers(of: target.pid) == [helper])
        // Confined as the preloaded helper: no privilege, no_new_privs, its seccomp filter,
        // only its own descriptors.
        #expect(TestEnvironment.eventually { ProcFS.status(helper, field: "Seccomp") == "2" })
        #expect(ProcFS.status(helper, field: "NoNewPrivs") == "1")
        #expect(ProcFS.status(helper, field: "CapEff") == "0000000000000000")
        #expect(ProcFS.status(helper, field: "Uid")?.split(separator: "\t").first == "65534")
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(helper))
        // No mapping of the program changed; the new ones are the helper's code (r-x), guard,
        // stack and data (rw-), and with workers a guard and a stack each: none both writable
        // and executable.
        let after = FileIO.read("/proc/\(target.pid)/maps") ?? ""
        let removed = Set(before.split(separator: "\n")).subtracting(after.split(separator: "\n"))
        let added = Set(after.split(separator: "\n")).subtracting(before.split(separator: "\n"))
        #expect(removed.isEmpty, "changed mappings: \(removed)")
        let workers = Int(report.workers ?? 1)
        #expect(added.count >= 3 && added.count <= 4 + 2 * (workers - 1), "new mappings (\(workers) workers): \(added)")
        #expect(added.allSatisfy { !$0.contains("wx") }, "new mappings: \(added)")
        let result = try target.wait(timeout: 60)
        #expect(result.status == 7, "fixture: \(result.stdout)")
        #expect(!result.stdout.contains("WRONG"), "\(result.stdout)")
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) || ProcFS.comm(helper) != "cleanup/\(target.pid)" })
    }

    @Test("python3 holding 512 MiB gets a helper; attaching twice leaves one")
    func dynamicProgramAndTwice() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[1]) }
        let holder = try ChildProcess(["/usr/bin/env", "python3", "-c",
                                       "import sys, os; b = bytearray(512 << 20); print('ready', flush=True); os.read(3, 1)"],
                                      descriptors: [3: fds[0]])
        close(fds[0])
        try #require(holder.readLine(timeout: 60) == "ready")
        let first = try InjectFixture.attach(holder.pid)
        try #require(first.status == 0, "cleave attach: \(first.stderr)")
        let helper = try #require(first.report?.helper)
        #expect(ProcFS.comm(helper) == "cleanup/\(holder.pid)")
        let footprint = InjectFixture.footprint(holder.pid)
        let second = try InjectFixture.attach(holder.pid)
        #expect(second.status == 125)
        #expect(second.stderr.contains("already has a teardown helper"), "\(second.stderr)")
        #expect(InjectFixture.footprint(holder.pid) == footprint)
        #expect(InjectFixture.helpers(of: holder.pid) == [helper])
        // The program runs on and ends normally; its helper leaves after it.
        _ = write(fds[1], "x", 1)
        #expect(try holder.wait(timeout: 60).status == 0)
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) || ProcFS.comm(helper) != "cleanup/\(holder.pid)" })
    }

    @Test("a zombie, a kernel thread, a thread id, a traced process and no process are refused with nothing changed")
    func refusals() throws {
        // A zombie: a child its parent (sleep, after exec) never reaps.
        let parent = try ChildProcess(["/bin/sh", "-c", "/bin/true & exec /bin/sleep 30"])
        var zombie: Int32 = 0
        #expect(TestEnvironment.eventually {
            let kids = (FileIO.read("/proc/\(parent.pid)/task/\(parent.pid)/children") ?? "").split(separator: " ")
            zombie = kids.compactMap { Int32($0.trimmed()) }.first { ProcFS.status($0, field: "State")?.hasPrefix("Z") == true } ?? 0
            return zombie > 0
        })
        let z = try InjectFixture.attach(zombie)
        #expect(z.status == 125 && z.stderr.contains("zombie"), "\(z.stderr)")
        #expect(ProcFS.status(zombie, field: "State")?.hasPrefix("Z") == true)
        #expect(InjectFixture.helpers(of: parent.pid).isEmpty)

        if let kthread = InjectFixture.kernelThread() {
            let k = try InjectFixture.attach(kthread)
            #expect(k.status == 125 && k.stderr.contains("kernel thread"), "\(k.stderr)")
        }

        let target = try ChildProcess([try InjectFixture.path(), "read", "0", "120"])
        try #require(target.readLine(timeout: 30) != nil)
        let footprint = InjectFixture.footprint(target.pid)
        let thread = try #require(InjectFixture.tasks(of: target.pid).first { $0 != target.pid })
        let t = try InjectFixture.attach(thread)
        #expect(t.status == 125 && t.stderr.contains("not a process"), "\(t.stderr)")

        // Under another tracer (strace), the process is refused and strace keeps it.
        let strace = try ChildProcess(["/usr/bin/strace", "-f", "-o", "/dev/null", "-p", "\(target.pid)"])
        #expect(TestEnvironment.eventually(timeout: 20) { ProcFS.status(target.pid, field: "TracerPid") == "\(strace.pid)" })
        let traced = try InjectFixture.attach(target.pid)
        #expect(traced.status == 125 && traced.stderr.contains("already traced"), "\(traced.stderr)")
        #expect(ProcFS.status(target.pid, field: "TracerPid") == "\(strace.pid)")
        kill(strace.pid, SIGKILL) // the kernel detaches its tracees (a TERM may be blocked in what the test runner spawns)
        _ = try strace.wait(timeout: 30)
        #expect(InjectFixture.footprint(target.pid) == footprint)
        #expect(InjectFixture.helpers(of: target.pid).isEmpty)
        kill(target.pid, SIGKILL)

        let none = try InjectFixture.attach(Int32.max)
        #expect(none.status == 125 && none.stderr.contains("no process"), "\(none.stderr)")
        let bad = try ChildProcess([TestEnvironment.cleave, "attach", "12x"]).wait()
        #expect(bad.status == 125 && bad.stderr.contains("not a process id"), "\(bad.stderr)")
        kill(parent.pid, SIGKILL)
    }

    /// cleave stalls (CLEAVE_TEST_INJECT_STALL_AT) with the thread's registers set for a remote
    /// call in the helper's page and is SIGKILLed: the kernel detaches the thread, which runs
    /// that call and then the trampoline's resume sequence back to where it was (its mask too).
    /// Call 1 is the first one in the helper's page, 9 blocks every signal, 10 is the clone, 11
    /// restores the mask (with one task: workers add an open and a guard page before 9). (Call 0,
    /// the mmap run from the vDSO, is the one unsafe window.)
    @Test("cleave SIGKILLed mid-injection leaves the target running as it was", arguments: [1, 9, 10, 11])
    func killedMidInjection(stallAt: Int) throws {
        let target = try ChildProcess([try InjectFixture.path(), "read", "16"])
        try #require(target.readLine(timeout: 30) == "ready \(target.pid)")
        let cleave = try ChildProcess([TestEnvironment.cleave, "attach", "\(target.pid)", "--teardown-workers", "1"],
                                      environment: ["CLEAVE_TEST_INJECT_STALL_AT": "\(stallAt)"])
        #expect(TestEnvironment.eventually(timeout: 20) { ProcFS.status(target.pid, field: "TracerPid") == "\(cleave.pid)" })
        // The stall is reached when cleave sleeps in pause() with the thread stopped.
        #expect(TestEnvironment.eventually(timeout: 20) {
            (FileIO.read("/proc/\(cleave.pid)/wchan") ?? "").contains("pause") ||
                (FileIO.read("/proc/\(cleave.pid)/syscall") ?? "").hasPrefix("34 ")
        })
        kill(cleave.pid, SIGKILL)
        _ = try cleave.wait(timeout: 30)
        #expect(TestEnvironment.eventually(timeout: 20) { ProcFS.status(target.pid, field: "TracerPid") == "0" })
        let result = try target.wait(timeout: 60)
        #expect(result.status == 7, "fixture: \(result.stdout)")
        #expect(!result.stdout.contains("WRONG"), "\(result.stdout)")
    }

    /// The target's own seccomp filter makes clone(CLONE_VM) fail with EPERM (deny_syscall.py):
    /// attach fails naming the clone, and the mapping and descriptors it had made are undone.
    @Test("a target whose seccomp filter refuses clone is left as it was")
    func seccompRefusesClone() throws {
        let fixtures = #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures"
        let target = try ChildProcess(["/usr/bin/python3", "/" + fixtures + "/deny_syscall.py", "56", "1", "--flags", "0x100",
                                       try InjectFixture.path(), "read", "0", "6"])
        let ready = try #require(target.readLine(timeout: 30))
        #expect(ready == "ready \(target.pid)")
        let footprint = InjectFixture.footprint(target.pid)
        let attached = try InjectFixture.attach(target.pid)
        #expect(attached.status == 125)
        #expect(attached.stderr.contains("clone") && attached.stderr.contains("Operation not permitted"), "\(attached.stderr)")
        #expect(InjectFixture.footprint(target.pid) == footprint)
        #expect(InjectFixture.helpers(of: target.pid).isEmpty)
        #expect(ProcFS.status(target.pid, field: "TracerPid") == "0")
        let result = try target.wait(timeout: 60)
        #expect(result.status == 7, "fixture: \(result.stdout)")
    }
}
