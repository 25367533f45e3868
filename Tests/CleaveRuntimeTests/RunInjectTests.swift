import Glibc
import Testing
import CleaveCgroups
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// `cleave run` gives a program that LD_PRELOAD cannot reach (static, or `--inject`) its helper
/// by injection at the exec stop, before the program's first instruction.
@Suite("cleave run injects the helper", .serialized)
struct RunInjectTests {
    /// Fixtures/run_inject_target.c built static (no PT_INTERP) and dynamic, once.
    private static let built: Result<(staticPath: String, dynamicPath: String), CleaveError> = {
        CFixture.build("run_inject_target", flags: ["-O1", "-static"], output: "static").flatMap { staticPath in
            CFixture.build("run_inject_target", flags: ["-O1"], output: "dynamic").map { (staticPath, $0) }
        }
    }()

    /// Runs `program` under `cleave run OPTIONS`, waits for its "ready PID CHILDREN EUID" line,
    /// calls `check` while it waits on its FIFO, then releases it and returns cleave's result.
    private func run(_ program: String, _ options: [String], cgroup: String,
                     check: (_ pid: Int32, _ childrenAtStart: Int, _ euid: UInt32) throws -> Void) throws -> (status: Int32, stderr: String) {
        let fifo = "/tmp/cleave-test-runinject-fifo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try #require(mkfifo(fifo, 0o600) == 0 && chmod(fifo, 0o666) == 0) // a setuid-nobody program opens it too
        defer { unlink(fifo) }
        let cleave = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", cgroup] + options + ["--", program, fifo])
        var released = false
        defer {
            if !released { kill(cleave.pid, SIGKILL); _ = try? cleave.wait(timeout: 30) }
        }
        let line = try #require(cleave.readLine(timeout: 60), "no ready line")
        let fields = line.split(separator: " ")
        try #require(fields.count == 4 && fields[0] == "ready", "\(line)")
        let pid = try #require(Int32(fields[1])), children = try #require(Int(fields[2])), euid = try #require(UInt32(fields[3]))
        try check(pid, children, euid)
        // Non-blocking: a program that died early never opens the FIFO (ENXIO until the deadline).
        var writer: Int32 = -1
        _ = TestEnvironment.eventually(timeout: 30) { writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC); return writer >= 0 }
        try #require(writer >= 0, "the program never opened its FIFO")
        _ = write(writer, "x", 1)
        close(writer)
        released = true
        let result = try cleave.wait(timeout: 60)
        return (result.status, result.stderr)
    }

    private func cgroupGone(_ path: String) -> Bool {
        TestEnvironment.eventually(timeout: 30) { !((try? Cgroup(mount: TestEnvironment.mount!, path: path))?.exists ?? false) }
    }

    @Test("a static program gets a helper cleanup/<pid> in its cgroup before its first instruction, exits 7, the cgroup goes")
    func staticProgram() throws {
        try #require(TestEnvironment.hasCgroup2)
        let program = try Self.built.get().staticPath
        #expect(ExecutableKind.of(path: program) == .staticELF)
        let path = TestEnvironment.uniqueCgroupPath("runinject-static")
        defer { TestEnvironment.removeCgroup(path) }
        var helperSeen: Int32 = 0
        let result = try run(program, [], cgroup: path) { pid, childrenAtStart, _ in
            #expect(childrenAtStart == 1, "the helper must exist when main() starts")
            let helpers = InjectFixture.helpers(of: pid)
            #expect(helpers.count == 1, "helpers: \(helpers)")
            guard let helper = helpers.first else { return }
            helperSeen = helper
            #expect(ProcFS.comm(helper) == "cleanup/\(pid)")
            #expect(ProcFS.parentPid(helper) == pid)
            #expect((FileIO.read("/proc/\(helper)/cgroup") ?? "").split(separator: "\n").contains("0::/\(path)"))
            #expect(TestEnvironment.eventually { ProcFS.status(helper, field: "Seccomp") == "2" })
            // The preloaded helper's long slice (SupervisorPriorityTests), injected too.
            if SupervisorPriorityTests.kernelTakesCustomSlice {
                #expect(SupervisorPriorityTests.slice(helper) == 100_000_000,
                        "injected helper's slice: \(SupervisorPriorityTests.slice(helper).map(String.init) ?? "?")")
            }
        }
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("could not inject"), "\(result.stderr)")
        #expect(helperSeen > 0)
        #expect(cgroupGone(path))
    }

    @Test("--inject on a dynamic program gives exactly one helper (no LD_PRELOAD one besides)")
    func injectDynamic() throws {
        try #require(TestEnvironment.hasCgroup2)
        let program = try Self.built.get().dynamicPath
        #expect(ExecutableKind.of(path: program) == .dynamic)
        let path = TestEnvironment.uniqueCgroupPath("runinject-dynamic")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try run(program, ["--inject"], cgroup: path) { pid, childrenAtStart, _ in
            #expect(childrenAtStart == 1)
            #expect(TestEnvironment.eventually { ProcFS.status(InjectFixture.helpers(of: pid).first ?? 0, field: "Seccomp") == "2" })
            usleep(200_000) // a second, preloaded helper would have started by now
            let helpers = InjectFixture.helpers(of: pid)
            #expect(helpers.count == 1, "helpers: \(helpers)")
            #expect((FileIO.read("/proc/\(pid)/environ") ?? "").contains("LD_PRELOAD=") == false)
        }
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(cgroupGone(path))
    }

    /// A setuid file runs in secure-execution mode, where the loader drops LD_PRELOAD: it is
    /// injected. cleave holds CAP_SYS_PTRACE, so the kernel honours the setuid bit under its trace.
    @Test("a setuid program is injected, and still runs with its file's uid")
    func setuidProgram() throws {
        try #require(TestEnvironment.hasCgroup2)
        let dynamic = try Self.built.get().dynamicPath
        let program = String(dynamic[..<(dynamic.lastIndex(of: "/") ?? dynamic.endIndex)]) + "/setuid-nobody"   // removed with the fixture
        let copy = try ChildProcess(["/bin/cp", dynamic, program]).wait()
        try #require(copy.status == 0, "\(copy.stderr)")
        try #require(chown(program, 65534, 65534) == 0 && chmod(program, 0o4755) == 0)
        #expect(ExecutableKind.of(path: program) == .setID)
        let path = TestEnvironment.uniqueCgroupPath("runinject-setuid")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try run(program, [], cgroup: path) { pid, childrenAtStart, euid in
            #expect(euid == 65534, "the setuid bit was not honoured")
            #expect(childrenAtStart == 1)
            let helpers = InjectFixture.helpers(of: pid)
            #expect(helpers.count == 1, "helpers: \(helpers)")
            #expect(TestEnvironment.eventually { ProcFS.status(helpers.first ?? 0, field: "Seccomp") == "2" })
        }
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("could not inject"), "\(result.stderr)")
        #expect(cgroupGone(path))
    }

    /// A setuid-root file exec'd by root changes no credential: the loader is not in secure mode
    /// and takes LD_PRELOAD, so it is not injected as well (it would get two helpers).
    @Test("a setuid-root program run by root keeps the preloaded helper alone: one helper, not two")
    func setuidRootByRoot() throws {
        try #require(TestEnvironment.hasCgroup2 && getuid() == 0)
        let dynamic = try Self.built.get().dynamicPath
        let program = String(dynamic[..<(dynamic.lastIndex(of: "/") ?? dynamic.endIndex)]) + "/setuid-root"   // removed with the fixture
        let copy = try ChildProcess(["/bin/cp", dynamic, program]).wait()
        try #require(copy.status == 0, "\(copy.stderr)")
        try #require(chown(program, 0, 0) == 0 && chmod(program, 0o6755) == 0)
        #expect(ExecutableKind.of(path: program) == .dynamic)
        #expect(ExecutableKind.of(path: program, uid: 65534, gid: 65534) == .setID)
        #expect(ExecutableKind.of(path: program, uid: 65534, gid: 65534, noNewPrivileges: true) == .dynamic)
        let path = TestEnvironment.uniqueCgroupPath("runinject-setuid-root")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try run(program, [], cgroup: path) { pid, childrenAtStart, euid in
            #expect(euid == 0)
            // Both helpers, were there two, exist before main(): the injected one at the exec
            // stop, the preloaded one in the loader's constructors.
            #expect(childrenAtStart == 1)
            #expect(InjectFixture.helpers(of: pid).count == 1, "helpers: \(InjectFixture.helpers(of: pid))")
        }
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(cgroupGone(path))
    }

    @Test("--teardown sync on a static program: no helper, its own status")
    func syncStatic() throws {
        try #require(TestEnvironment.hasCgroup2)
        let program = try Self.built.get().staticPath
        let path = TestEnvironment.uniqueCgroupPath("runinject-sync")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try run(program, ["--teardown", "sync"], cgroup: path) { pid, childrenAtStart, _ in
            #expect(childrenAtStart == 0)
            #expect(InjectFixture.helpers(of: pid).isEmpty)
        }
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(cgroupGone(path))
    }

    @Test("ExecutableKind: a static build of the running cleave (same device and inode, a hard link too) starts its linked helper; a copy of it is injected")
    func linkedHelperIsTheRunningFileOnly() throws {
        let built = try Self.built.get()
        let self_ = built.staticPath
        #expect(ExecutableKind.of(path: self_, runningExecutable: self_) == .linkedHelper)
        let link = "/tmp/cleave-test-runinject-link-\(getpid())", copy = "/tmp/cleave-test-runinject-copy-\(getpid())"
        defer { unlink(link); unlink(copy) }
        unlink(link)
        try #require(Glibc.link(self_, link) == 0)
        #expect(ExecutableKind.of(path: link, runningExecutable: self_) == .linkedHelper)
        let copied = try ChildProcess(["/bin/cp", self_, copy]).wait(timeout: 30)
        try #require(copied.status == 0, "cp: \(copied.stderr)")
        #expect(ExecutableKind.of(path: copy, runningExecutable: self_) == .staticELF)
        // Only a static file: the loader reaches a dynamic one with LD_PRELOAD.
        #expect(ExecutableKind.of(path: built.dynamicPath, runningExecutable: built.dynamicPath) == .dynamic)
        // The test process itself is not the static file.
        #expect(ExecutableKind.of(path: self_) == .staticELF)
    }

    @Test("ExecutableKind: ELF without PT_INTERP is static, with it dynamic, a script other")
    func executableKind() throws {
        #expect(ExecutableKind.of(path: "/bin/sh") == .dynamic)
        #expect(ExecutableKind.of(path: "/no/such/file") == .other)
        let script = "/tmp/cleave-test-runinject-script-\(getpid())"
        let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        _ = write(fd, "#!/bin/sh\nexit 0\n", 17)
        close(fd)
        defer { unlink(script) }
        #expect(ExecutableKind.of(path: script) == .other)
        #expect(ExecutableKind.of(path: try Self.built.get().staticPath) == .staticELF)
        // A truncated header is not read past its end.
        #expect(ExecutableKind.classify(header: [0x7f, 0x45, 0x4c, 0x46]) { _, _ in nil } == .other)
    }

    @Test("--inject is a flag of the fast path: once, no value")
    func injectFlagParsing() throws {
        let parsed = try #require(RunFlags.parseFast(["--inject", "--", "prog"]))
        #expect(parsed.inject && parsed.command == ["prog"])
        #expect(try parsed.request().inject)
        #expect(RunFlags.parseFast(["--inject", "--inject", "--", "prog"]) == nil)
        #expect(RunFlags.parseFast(["--inject=yes", "--", "prog"]) == nil)
        #expect(try RunFlags.parseFast(["--", "prog"])?.request().inject == false)
    }
}
