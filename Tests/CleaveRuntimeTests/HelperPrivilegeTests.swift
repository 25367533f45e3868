import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

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
        let result = try ChildProcess(["/usr/bin/python3", "/" + fixture + "/Fixtures/deny_syscall.py", "317", "1", "sh", "-c", "echo ran; exit 3"],
                                      environment: TeardownFixture.preloaded).wait()
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("ran"))
        #expect(result.stderr.contains("cannot start the teardown helper (seccomp filter: Operation not permitted)"),
                "stderr: \(result.stderr)")
    }

    @Test("without pidfd_open (ENOSYS, as before Linux 5.3) the helper waits on the parent-death signal and still leaves at the workload's exit")
    func pidfdFallback() throws {
        let fixture = #filePath.split(separator: "/").dropLast().joined(separator: "/")
        let workload = try ChildProcess(["/usr/bin/python3", "/" + fixture + "/Fixtures/deny_syscall.py", "434", "38",
                                         "/bin/sh", "-c", "echo $$; sleep 2"],
                                        environment: TeardownFixture.preloaded)
        let pid = try #require(workload.readLine(timeout: 30).flatMap { Int32($0) })
        // sh's helper, in fallback mode: a signalfd where the pidfd would be. (The helper of the
        // python image before it leaves at the exec, with its pidfd, is not the one.)
        var helper: Int32?
        #expect(TestEnvironment.eventually(timeout: 10) {
            helper = HelperInspection.liveHelpers(of: pid, among: ProcFS.children(of: pid)).first {
                let links = (try? FileManagerless.links(of: $0)) ?? []
                return links.contains("anon_inode:[signalfd]") && !links.contains("anon_inode:[pidfd]")
            }
            return helper != nil
        }, "no helper with a signalfd and no pidfd among \(ProcFS.children(of: pid))")
        let h = try #require(helper)
        _ = try workload.wait(timeout: 30)
        #expect(TestEnvironment.eventually(timeout: 5) { !ProcFS.isAlive(h) }, "the helper outlived its parent")
    }
}

/// readlink of every descriptor a process holds.
enum FileManagerless {
    static func links(of pid: Int32) throws -> [String] {
        guard let dir = opendir("/proc/\(pid)/fd") else { throw CleaveError.message("opendir /proc/\(pid)/fd") }
        defer { closedir(dir) }
        var out = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/\(pid)/fd/\(name)", &buf, buf.count - 1)
            if n > 0 { out.append(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        }
        return out
    }
}
