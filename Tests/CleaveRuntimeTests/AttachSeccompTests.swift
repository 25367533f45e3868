import CCleaveInject
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// `cleave attach` reads the target's seccomp filters before it changes anything, and refuses
/// a target whose filter would kill, trap, trace or notify on (or fail) one of the system calls
/// the injection, the helper or its workers make. x86_64 numbers.
@Suite("cleave attach and the target's seccomp filter", .serialized,
       .enabled(if: getuid() == 0, "needs root (ptrace, PTRACE_SECCOMP_GET_FILTER)"))
struct AttachSeccompTests {
    /// Refused with exit 125 naming `call` and `action`, and the target as it was: the same
    /// mappings and descriptors, untraced, no helper, still answering, exiting with its own status.
    private func expectRefusedUnchanged(_ target: SeccompFixture.Target, call: String, action: String,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let footprint = InjectFixture.footprint(target.pid)
        let attached = try SeccompFixture.attach(target.pid)
        #expect(attached.status == 125, "cleave attach: \(attached.stderr)", sourceLocation: sourceLocation)
        #expect(attached.stderr.contains("seccomp filter would") && attached.stderr.contains(call) && attached.stderr.contains(action),
                "\(attached.stderr)", sourceLocation: sourceLocation)
        #expect(attached.stderr.contains("nothing was changed"), "\(attached.stderr)", sourceLocation: sourceLocation)
        #expect(ProcFS.isAlive(target.pid), sourceLocation: sourceLocation)
        #expect(InjectFixture.footprint(target.pid) == footprint, sourceLocation: sourceLocation)
        #expect(SeccompFixture.mappingCount(target.pid) == target.mappings, sourceLocation: sourceLocation)
        #expect(ProcFS.status(target.pid, field: "TracerPid") == "0", sourceLocation: sourceLocation)
        #expect(InjectFixture.helpers(of: target.pid).isEmpty, sourceLocation: sourceLocation)
        #expect(target.answers("a"), sourceLocation: sourceLocation)
        #expect(try target.finish() == 9, sourceLocation: sourceLocation)
    }

    @Test("a filter that kills on clone(CLONE_VM): refused naming clone, the target alive and unchanged")
    func killOnClone() throws {
        let target = try SeccompFixture.start("kill", nr: 56, mask: 0x100)
        try expectRefusedUnchanged(target, call: "clone", action: "SECCOMP_RET_KILL_PROCESS")
    }

    @Test("a filter that fails every mmap with EPERM: refused before anything is done")
    func errnoOnMmap() throws {
        let target = try SeccompFixture.start("errno", nr: 9)
        try expectRefusedUnchanged(target, call: "mmap", action: "Operation not permitted")
    }

    @Test("a filter that traces, notifies a supervisor or traps on a call the injection makes: refused",
          arguments: [("trace", 293, "pipe2", "SECCOMP_RET_TRACE"), ("notif", 56, "clone", "SECCOMP_RET_USER_NOTIF"),
                      ("trap", 186, "gettid", "SECCOMP_RET_TRAP")])
    func otherActions(action: String, nr: Int, call: String, named: String) throws {
        let target = try SeccompFixture.start(action, nr: nr)
        try expectRefusedUnchanged(target, call: call, action: named)
    }

    @Test("a cleave under a seccomp filter of its own cannot read the target's (EACCES): refused, not guessed")
    func unreadableFilterRefused() throws {
        let target = try SeccompFixture.start("kill", nr: 165)
        let footprint = InjectFixture.footprint(target.pid)
        let fixtures = #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures"
        // cleave itself runs under a filter that fails only mount with EPERM.
        let result = try ChildProcess(["/usr/bin/python3", "/" + fixtures + "/deny_syscall.py", "165", "1",
                                       TestEnvironment.cleave, "attach", "\(target.pid)"]).wait(timeout: 60)
        #expect(result.status == 125, "\(result.stderr)")
        #expect(result.stderr.contains("cannot read") && result.stderr.contains("PTRACE_SECCOMP_GET_FILTER"), "\(result.stderr)")
        #expect(InjectFixture.footprint(target.pid) == footprint)
        #expect(InjectFixture.helpers(of: target.pid).isEmpty)
        #expect(target.answers("e"))
        #expect(try target.finish() == 9)
    }

    @Test("a filter that kills only an unrelated call (mount): the helper is injected and confined; the target runs on")
    func unrelatedKillAllowed() throws {
        let target = try SeccompFixture.start("kill", nr: 165)
        let attached = try SeccompFixture.attach(target.pid)
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        let helper = try #require(attached.report?.helper)
        #expect(ProcFS.comm(helper) == "cleanup/\(target.pid)")
        #expect(ProcFS.parentPid(helper) == target.pid)
        #expect(TestEnvironment.eventually { ProcFS.status(helper, field: "Seccomp") == "2" })
        #expect(InjectFixture.helpers(of: target.pid) == [helper])
        #expect(target.answers("b"))
        #expect(try target.finish() == 9)
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) || ProcFS.comm(helper) != "cleanup/\(target.pid)" })
    }

    @Test("the helper's long slice: a filter that kills on sched_setattr refuses the injection; one that fails it with EPERM costs only the slice")
    func sliceCall() throws {
        let killing = try SeccompFixture.start("kill", nr: 314 /* sched_setattr */)
        try expectRefusedUnchanged(killing, call: "sched_setattr", action: "SECCOMP_RET_KILL_PROCESS")

        let failing = try SeccompFixture.start("errno", nr: 314)
        let attached = try SeccompFixture.attach(failing.pid)
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        let helper = try #require(attached.report?.helper)
        #expect(TestEnvironment.eventually { ProcFS.status(helper, field: "Seccomp") == "2" })
        if SupervisorPriorityTests.kernelTakesCustomSlice {
            #expect(SupervisorPriorityTests.slice(helper) != 100_000_000, "the filter refused the slice: it stays as inherited")
        }
        #expect(failing.answers("e"))
        #expect(try failing.finish() == 9)
    }

    @Test("the release workers' yield: a filter that kills on sched_yield keeps one task and says why; one that fails it with EPERM keeps the workers")
    func workerYieldCall() throws {
        let killing = try SeccompFixture.start("kill", nr: 24 /* sched_yield */)
        let refused = try SeccompFixture.attach(killing.pid, ["--teardown-workers", "2"])
        try #require(refused.status == 0, "cleave attach: \(refused.stderr)")
        let report = try #require(refused.report)
        #expect(report.workers == 1)
        #expect(report.note?.contains("sched_yield") == true, "note: \(report.note ?? "none")")
        #expect(killing.answers("c"))
        #expect(try killing.finish() == 9)

        let failing = try SeccompFixture.start("errno", nr: 24)
        let attached = try SeccompFixture.attach(failing.pid, ["--teardown-workers", "2"])
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        #expect(attached.report?.workers == 2, "note: \(attached.report?.note ?? "none")")
        #expect(failing.answers("c"))
        #expect(try failing.finish() == 9)
    }

    @Test("a container-like allowlist built by libseccomp (default EPERM, clone without namespace flags): evaluated, the helper injected",
          .enabled(if: SeccompFixture.allowlist != nil, "needs python3 and libseccomp"))
    func containerAllowlist() throws {
        let target = try SeccompFixture.start("none", nr: 0, under: try #require(SeccompFixture.allowlist))
        #expect(ProcFS.status(target.pid, field: "Seccomp") == "2")
        let attached = try SeccompFixture.attach(target.pid)
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        let helper = try #require(attached.report?.helper)
        #expect(ProcFS.comm(helper) == "cleanup/\(target.pid)")
        #expect(attached.report?.note == nil, "note: \(attached.report?.note ?? "")")
        #expect(target.answers("d"))
        #expect(try target.finish() == 9)
    }

    @Test("a filter that traps only madvise (the release workers' call): the helper is injected and frees with one task, and says why")
    func releaseCallRefusedCostsOnlyTheWorkers() throws {
        let target = try SeccompFixture.start("trap", nr: 28)
        let attached = try SeccompFixture.attach(target.pid, ["--teardown-workers", "2"])
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        let report = try #require(attached.report)
        #expect(report.workers == 1)
        #expect(report.note?.contains("madvise") == true, "note: \(report.note ?? "none")")
        #expect(attached.stderr.contains("madvise"), "\(attached.stderr)")
        #expect(ProcFS.comm(report.helper) == "cleanup/\(target.pid)")
        #expect(target.answers("c"))
        #expect(try target.finish() == 9)
    }
}

/// The cBPF interpreter behind the check, on programs the kernel would accept and on hostile
/// ones it would not (cleave_seccomp_evaluate, the C test entry point).
@Suite("seccomp cBPF interpreter")
struct SeccompInterpreterTests {
    private static let kill: UInt32 = 0x8000_0000, allow: UInt32 = 0x7fff_0000, errnoEPERM: UInt32 = 0x0005_0001

    private func insn(_ code: Int32, _ k: UInt32, _ jt: UInt8 = 0, _ jf: UInt8 = 0) -> sock_filter {
        sock_filter(code: UInt16(code), jt: jt, jf: jf, k: k)
    }

    /// The values the program can return; nil args: every argument unknown.
    private func evaluate(_ program: [sock_filter], nr: Int32, args: [UInt64]? = nil) -> (rc: Int32, rets: Set<UInt32>) {
        var rets = [UInt32](repeating: 0, count: 8)
        let values = (args ?? []) + [UInt64](repeating: 0, count: 6 - (args ?? []).count)
        let rc = program.withUnsafeBufferPointer { p in
            values.withUnsafeBufferPointer { a in
                cleave_seccomp_evaluate(p.baseAddress, p.count, nr, a.baseAddress, args == nil ? 0 : 0x3f, &rets)
            }
        }
        return (rc, rc > 0 ? Set(rets[0..<Int(rc)]) : [])
    }

    /// Kill clone when its flags have CLONE_VM, as a container profile might.
    private var killCloneVM: [sock_filter] {
        [insn(BPF_LD | BPF_W | BPF_ABS, 4), insn(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 0), insn(BPF_RET | BPF_K, Self.kill),
         insn(BPF_LD | BPF_W | BPF_ABS, 0), insn(BPF_JMP | BPF_JEQ | BPF_K, 56, 0, 3),
         insn(BPF_LD | BPF_W | BPF_ABS, 16), insn(BPF_JMP | BPF_JSET | BPF_K, 0x100, 0, 1), insn(BPF_RET | BPF_K, Self.kill),
         insn(BPF_RET | BPF_K, Self.allow)]
    }

    @Test("known arguments give the one result the kernel would; an unknown one gives both branches")
    func knownAndUnknown() {
        #expect(evaluate(killCloneVM, nr: 56, args: [0x100]) == (1, [Self.kill]))
        #expect(evaluate(killCloneVM, nr: 56, args: [0x11]) == (1, [Self.allow]))
        #expect(evaluate(killCloneVM, nr: 56) == (2, [Self.kill, Self.allow]))
        #expect(evaluate(killCloneVM, nr: 9) == (1, [Self.allow]))
    }

    @Test("ALU, scratch memory and X: computed values are followed; division by X = 0 returns 0 (kill thread)")
    func arithmetic() {
        // A = args[0] & 0xff; M[3] = A; X = 5; A = M[3] + X; return A == 7 ? EPERM : ALLOW
        let program = [insn(BPF_LD | BPF_W | BPF_ABS, 16), insn(BPF_ALU | BPF_AND | BPF_K, 0xff), insn(BPF_ST, 3),
                       insn(BPF_LDX | BPF_IMM, 5), insn(BPF_LD | BPF_MEM, 3), insn(BPF_ALU | BPF_ADD | BPF_X, 0),
                       insn(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1), insn(BPF_RET | BPF_K, Self.errnoEPERM), insn(BPF_RET | BPF_K, Self.allow)]
        #expect(evaluate(program, nr: 1, args: [0x302]) == (1, [Self.errnoEPERM]))
        #expect(evaluate(program, nr: 1, args: [0x303]) == (1, [Self.allow]))
        let divide = [insn(BPF_LDX | BPF_IMM, 0), insn(BPF_ALU | BPF_DIV | BPF_X, 0), insn(BPF_RET | BPF_K, Self.allow)]
        #expect(evaluate(divide, nr: 1, args: []) == (1, [0]))
        // RET A of an argument cleave cannot know: cannot be evaluated.
        #expect(evaluate([insn(BPF_LD | BPF_W | BPF_ABS, 24), insn(BPF_RET | BPF_A, 0)], nr: 1).rc == -3)
    }

    @Test("hostile programs are refused, not run: a jump out of the program, a load past seccomp_data, M[16], an opcode seccomp does not run, no RET")
    func hostilePrograms() {
        #expect(evaluate([insn(BPF_JMP | BPF_JA, 5), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_JMP | BPF_JA, 0xffff_ffff), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 200, 0), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_LD | BPF_W | BPF_ABS, 64), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_LD | BPF_W | BPF_ABS, 2), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_LD | BPF_MEM, 16), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_ST, 16), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_LD | BPF_B | BPF_ABS, 0), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_ALU | BPF_MOD | BPF_K, 3), insn(BPF_RET | BPF_K, Self.allow)], nr: 1).rc == -1)
        #expect(evaluate([insn(BPF_LD | BPF_W | BPF_ABS, 0)], nr: 1).rc == -1)
        #expect(evaluate([], nr: 1).rc == -1)
    }

    @Test("4095 branches on an unknown argument: evaluated in one pass per instruction, both results found")
    func manyUnknownBranches() {
        var program = [insn(BPF_LD | BPF_W | BPF_ABS, 16)]
        for k in 0..<2046 {
            program.append(insn(BPF_JMP | BPF_JEQ | BPF_K, UInt32(k), 1, 0))
            program.append(insn(BPF_LD | BPF_W | BPF_ABS, 16))
        }
        program.append(insn(BPF_JMP | BPF_JGT | BPF_K, 9, 0, 1))
        program.append(insn(BPF_RET | BPF_K, Self.kill))
        program.append(insn(BPF_RET | BPF_K, Self.allow))
        #expect(program.count <= 4096)
        let start = Clock.monotonicNanoseconds()
        #expect(evaluate(program, nr: 1) == (2, [Self.kill, Self.allow]))
        #expect(evaluate(program, nr: 1, args: [3]) == (1, [Self.allow]))
        #expect(Clock.monotonicNanoseconds() - start < 1_000_000_000)
    }
}
