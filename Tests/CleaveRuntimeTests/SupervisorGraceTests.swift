import Glibc
import Testing
import CleaveSystem
import CleaveTestSupport

/// Under cleave run, the helper of the workload gives cleave (the workload's parent) a short
/// grace to exit before it frees the memory, so cleave's last steps do not share the CPUs
/// with a release of gigabytes. The fixture's "supervise" mode plays cleave run: it starts
/// the designated workload, reaps it, then stays or exits.
@Suite("the helper's grace for cleave run's exit (host tier)", .serialized)
struct SupervisorGraceTests {
    struct Started {
        let supervisor: ChildProcess
        let workload: Int32
        let helper: Int32
    }

    /// 96 MiB: above the 64 MiB of resident memory below which there is no grace.
    static func start(_ mode: String, grace: String, mib: Int = 96) throws -> Started {
        let supervisor = try ChildProcess([TeardownFixture.path(), "supervise", String(mib), TestEnvironment.teardownLibrary, mode],
                                          environment: ["CLEAVE_TEARDOWN_GRACE_MS": grace, "CLEAVE_TEARDOWN_WORKERS": "1"])
        let line = try #require(supervisor.readLine(timeout: 30), "no output from the fixture")
        let fields = line.split(separator: " ")
        let workload = try #require(fields.count == 4 ? Int32(fields[1]) : nil, "line: \(line)")
        let helper = try #require(Int32(fields[3]), "line: \(line)")
        try #require(helper > 0, "the workload has no helper: \(line)")
        return Started(supervisor: supervisor, workload: workload, helper: helper)
    }

    static func now() -> Double { Double(Clock.monotonicNanoseconds()) / 1e9 }

    static func residentKiB(_ pid: Int32) -> Int {
        ProcFS.status(pid, field: "VmRSS").flatMap { Int($0.split(separator: " ")[0]) } ?? 0
    }

    @Test("the helper holds the workload's pidfd and its supervisor's, nothing else of theirs")
    func helperHoldsTheSupervisorsPidfd() throws {
        let run = try Self.start("leave", grace: "1000")
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(run.helper))
        let pidfds = HelperInspection.pidfdTargets(of: run.helper)
        #expect(pidfds.sorted() == [run.supervisor.pid, run.workload].sorted(), "pidfds name \(pidfds)")
        kill(run.workload, SIGKILL)
        #expect(try run.supervisor.wait().status == 0)
    }

    @Test("while the supervisor stays, the helper keeps the memory for the grace (1000 ms here) and no longer, then frees it and exits")
    func graceIsBoundedBySupervisorThatStays() throws {
        let run = try Self.start("stay", grace: "1000")
        defer { kill(run.supervisor.pid, SIGKILL) }
        let killed = Self.now()
        kill(run.workload, SIGKILL)
        #expect(run.supervisor.readLine(timeout: 30) == "reaped")
        // Inside the grace the helper still holds the 96 MiB (told only while well inside it).
        let resident = Self.residentKiB(run.helper)
        if Self.now() - killed < 0.5 {
            #expect(ProcFS.isAlive(run.helper) && resident >= 90 * 1024, "helper resident \(resident) KiB")
        }
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(run.helper) }, "the helper outlived its grace")
        // ppoll's timeout is a minimum and the workload died after `killed`.
        let gone = Self.now() - killed
        #expect(gone >= 0.99, "the helper was gone \(gone) s after the kill: it did not wait for the supervisor")
    }

    @Test("the supervisor's exit ends the grace: the helper frees at once, not at the bound")
    func supervisorExitEndsTheGrace() throws {
        let run = try Self.start("leave", grace: "1000")
        let killed = Self.now()
        kill(run.workload, SIGKILL)
        #expect(try run.supervisor.wait().status == 0)
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(run.helper) })
        let gone = Self.now() - killed
        #expect(gone < 0.9, "the helper was gone only \(gone) s after the kill, as if it waited out the whole grace")
    }

    @Test("a bad CLEAVE_TEARDOWN_GRACE_MS is named on stderr and the default used", arguments: ["1001", "2ms", "-1", " 5"])
    func badGraceIsNamed(value: String) throws {
        let run = try Self.start("leave", grace: value)
        kill(run.workload, SIGKILL)
        let result = try run.supervisor.wait()
        #expect(result.status == 0)
        #expect(result.stderr.contains("CLEAVE_TEARDOWN_GRACE_MS=\(value) is not a number of milliseconds from 0 to 1000; using 2"),
                "stderr: \(result.stderr)")
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(run.helper) })
    }

    @Test("0 turns the grace off: the helper holds no supervisor pidfd")
    func zeroTurnsItOff() throws {
        let run = try Self.start("stay", grace: "0")
        defer { kill(run.supervisor.pid, SIGKILL) }
        #expect(HelperInspection.pidfdTargets(of: run.helper) == [run.workload])
        let killed = Self.now()
        kill(run.workload, SIGKILL)
        #expect(run.supervisor.readLine(timeout: 30) == "reaped")
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(run.helper) })
        #expect(Self.now() - killed < 0.9)
    }

    @Test("a short command's helper (less than 64 MiB resident) frees at once: cleave waits for such a helper, and a grace would make the two wait for each other")
    func smallWorkloadHasNoGrace() throws {
        let run = try Self.start("stay", grace: "1000", mib: 8)
        defer { kill(run.supervisor.pid, SIGKILL) }
        let killed = Self.now()
        kill(run.workload, SIGKILL)
        #expect(run.supervisor.readLine(timeout: 30) == "reaped")
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(run.helper) })
        #expect(Self.now() - killed < 0.9)
    }

    @Test("under cleave run the helper holds a pidfd of cleave, and its release follows cleave's exit")
    func realCleaveIsTheSupervisor() throws {
        let path = TestEnvironment.uniqueCgroupPath("grace")
        defer { TestEnvironment.removeCgroup(path) }
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "async", "--cgroup", path, "--",
                                    TeardownFixture.path(), "hold", "96"], environment: ["CLEAVE_TEARDOWN_GRACE_MS": "1000"])
        let line = try #require(run.readLine(timeout: 60), "no output from the workload")
        let fields = line.split(separator: " ")
        let workload = try #require(fields.count == 4 ? Int32(fields[1]) : nil, "line: \(line)")
        let helper = try #require(Int32(fields[3]), "line: \(line)")
        #expect(HelperInspection.pidfdTargets(of: helper).sorted() == [run.pid, workload].sorted())
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(helper))
        let killed = Self.now()
        kill(workload, SIGKILL)
        #expect(try run.wait().status == 128 + SIGKILL)
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) })
        #expect(Self.now() - killed < 0.9, "the helper waited out its grace although cleave had returned")
    }
}
