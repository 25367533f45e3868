import CleaveShim
import Glibc
import Testing

/// The helper shares the workload's memory, so the workload can make it run any
/// code: it must hold nothing the workload could not hold itself.
@Suite("teardown helper confinement (host tier)", .enabled(if: getuid() == 0, "needs root"))
struct HelperPrivilegeTests {
    @Test("a root workload that switches to 65534 without exec leaves a helper with uid 65534, no capabilities, no_new_privs and a seccomp filter")
    func helperDropsPrivilege() throws {
        let workload = try ChildProcess([TeardownFixture.path(), "drop"], environment: TeardownFixture.preloaded)
        let line = try #require(workload.readLine(timeout: 30), "no output from the fixture")
        let helper = try #require(Int32(line.dropFirst("helper ".count)), "line: \(line)")
        #expect(helper > 0)
        #expect(ProcFS.comm(helper) == "cleanup/\(workload.pid)")
        // The workload has switched; the helper confined itself before the workload ran on.
        #expect(ProcFS.status(helper, field: "Uid")?.split(whereSeparator: \.isWhitespace) == ["65534", "65534", "65534", "65534"])
        #expect(ProcFS.status(helper, field: "Gid")?.split(whereSeparator: \.isWhitespace) == ["65534", "65534", "65534", "65534"])
        #expect(ProcFS.status(helper, field: "Groups") == "")
        for field in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(ProcFS.status(helper, field: field) == "0000000000000000", "\(field)")
        }
        #expect(ProcFS.status(helper, field: "NoNewPrivs") == "1")
        #expect(ProcFS.status(helper, field: "Seccomp") == "2")
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(helper))
        // The workload is unaffected and still has its helper.
        #expect(ProcFS.isAlive(helper))
        kill(workload.pid, SIGTERM)
        #expect(try workload.wait().status == 128 + SIGTERM)
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(helper) })
    }

    #if arch(x86_64)
    @Test("a helper made to run a forbidden system call is killed by its filter (SIGSYS), creates nothing, and the workload exits with its own status")
    func forbiddenSystemCallKillsOnlyTheHelper() throws {
        let file = "/tmp/cleave-test-attack-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(file) }
        // The fixture reads the helper's next instruction from /proc/<helper>/syscall, switches to
        // 65534, writes code there that opens `file` with O_CREAT in /tmp (which 65534 may do, so
        // only the filter stops it), and wakes the helper by closing the exec pipe.
        let result = try ChildProcess([TeardownFixture.path(), "attack", file], environment: TeardownFixture.preloaded).wait(timeout: 60)
        #expect(result.stdout.contains("helper-signal \(SIGSYS)"), "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(access(file, F_OK) != 0, "the helper created \(file)")
        #expect(result.status == 42, "stderr: \(result.stderr)")
    }
    #endif

    @Test("a helper that cannot confine itself exits at once: the workload runs on with a warning and a synchronous teardown")
    func failedConfinementLeavesNoHelper() throws {
        // The workload's own seccomp filter refuses seccomp(2), which the helper needs.
        let fixture = #filePath.split(separator: "/").dropLast().joined(separator: "/")
        let result = try ChildProcess(["/usr/bin/python3", "/" + fixture + "/Fixtures/deny_seccomp.py", "sh", "-c", "echo ran; exit 3"],
                                      environment: TeardownFixture.preloaded).wait()
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("ran"))
        #expect(result.stderr.contains("cannot start the teardown helper (seccomp filter: Operation not permitted)"),
                "stderr: \(result.stderr)")
    }
}
