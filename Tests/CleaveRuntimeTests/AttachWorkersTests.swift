import CCleaveContract
import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The injected helper frees with workers like the preloaded one (release_workers.c is part of
/// the injected block): `cleave attach --teardown-workers N`, else the target's
/// CLEAVE_TEARDOWN_WORKERS, else the CPUs its cgroup may use.
@Suite("cleave attach: the injected helper's parallel release", .serialized,
       .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
struct AttachWorkersTests {
    @Test("with --teardown-workers 2, a static program holding 1 GiB alone in its cgroup: at its death a worker named cleanup/<pid>, the helper's child in that cgroup, frees beside the helper; then the helper exits and the cgroup empties")
    func workersFreeAndLeave() throws {
        let scratch = try ScratchCgroup("attach-release")
        let target = try SeccompFixture.start("none", nr: 0, mib: 1024, in: scratch.cgroup)
        let attached = try SeccompFixture.attach(target.pid, ["--teardown-workers", "2"])
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        let report = try #require(attached.report)
        #expect(report.workers == 2)
        #expect(report.note == nil, "note: \(report.note ?? "")")
        let helper = report.helper
        // As the preloaded helper with workers: it holds its maps and its cgroup's cgroup.procs
        // (opened by the target, checked by cleave to be that file), and nothing else inherited.
        let links = try FileManagerless.links(of: helper)
        #expect(links.contains("/proc/\(helper)/maps"), "descriptors: \(links)")
        #expect(links.contains("\(scratch.cgroup.path)/cgroup.procs"), "descriptors: \(links)")
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(helper))
        // The target keeps only read-write or no-access new mappings besides the code (r-x).
        let added = SeccompFixture.mappingCount(target.pid) - target.mappings
        #expect(added >= 3 && added <= 3 + 2 * 1 + 1, "new mappings: \(added)")
        #expect(!(FileIO.read("/proc/\(target.pid)/maps") ?? "").contains("rwx"))

        kill(target.pid, SIGKILL)
        _ = try target.process.wait(timeout: 30)
        close(target.feed)
        var workers = Set<Int32>()
        var inCgroup = false
        _ = TestEnvironment.eventually(timeout: 60) {
            for child in ProcFS.children(of: helper) where ProcFS.comm(child) == "cleanup/\(target.pid)" {
                workers.insert(child)
                if !inCgroup, let procs = try? scratch.cgroup.processes() { inCgroup = procs.contains(child) }
            }
            return (try? scratch.cgroup.isPopulated()) == false
        }
        #expect(workers.count == 1, "workers seen: \(workers)")
        #expect(inCgroup, "no worker listed in the target's cgroup.procs")
        #expect(TestEnvironment.eventually(timeout: 30) { (try? scratch.cgroup.isPopulated()) == false })
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) })
    }

    @Test("cleave run --inject --teardown-workers 3 of a static program (more than this machine's default; no CLEAVE_TEARDOWN_WORKERS with --inject): its injected helper holds what the workers need and two workers free beside it at the program's death")
    func runInjectionWithWorkers() throws {
        let path = TestEnvironment.uniqueCgroupPath("runinject-workers")
        defer { TestEnvironment.removeCgroup(path) }
        let mount = try #require(TestEnvironment.mount)
        let cleave = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--inject", "--teardown-workers", "3", "--",
                                       try InjectFixture.path(), "nanosleep", "768", "120"])
        var reaped = false
        defer { if !reaped { kill(cleave.pid, SIGKILL); _ = try? cleave.wait(timeout: 30) } }
        let ready = try #require(cleave.readLine(timeout: 60))
        let pid = try #require(Int32(ready.split(separator: " ").last ?? ""), "\(ready)")
        var helper: Int32 = 0
        #expect(TestEnvironment.eventually(timeout: 20) {
            helper = InjectFixture.helpers(of: pid).first ?? 0
            return helper > 0
        })
        try #require(helper > 0, "no helper")
        let links = try FileManagerless.links(of: helper)
        #expect(links.contains("/proc/\(helper)/maps"), "descriptors: \(links)")
        #expect(links.contains("\(mount.mountPoint)/\(path)/cgroup.procs"), "descriptors: \(links)")
        kill(pid, SIGKILL)
        var workers = Set<Int32>()
        _ = TestEnvironment.eventually(timeout: 60) {
            for child in ProcFS.children(of: helper) where ProcFS.comm(child) == "cleanup/\(pid)" { workers.insert(child) }
            return !ProcFS.isAlive(helper)
        }
        #expect(workers.count == 2, "workers seen: \(workers)")
        #expect(!ProcFS.isAlive(helper))
        let status = try cleave.wait(timeout: 60).status
        reaped = true
        #expect(status == 128 + SIGKILL)
    }

    @Test("without the option, CLEAVE_TEARDOWN_WORKERS in the target's environment decides, as for the preload; --teardown-workers 1 is one task")
    func environmentAndOne() throws {
        let target = try SeccompFixture.start("none", nr: 0, environment: [CLEAVE_ENV_TEARDOWN_WORKERS: "3"])
        let attached = try SeccompFixture.attach(target.pid)
        try #require(attached.status == 0, "cleave attach: \(attached.stderr)")
        #expect(attached.report?.workers == 3)
        #expect(try target.finish() == 9)

        let other = try SeccompFixture.start("none", nr: 0, environment: [CLEAVE_ENV_TEARDOWN_WORKERS: "3"])
        let one = try SeccompFixture.attach(other.pid, ["--teardown-workers", "1"])
        try #require(one.status == 0, "cleave attach: \(one.stderr)")
        #expect(one.report?.workers == 1)
        let helper = try #require(one.report?.helper)
        let links = try FileManagerless.links(of: helper)
        #expect(!links.contains { $0.hasSuffix("/maps") || $0.hasSuffix("/cgroup.procs") }, "descriptors: \(links)")
        #expect(try other.finish() == 9)

        let bad = try ChildProcess([TestEnvironment.cleave, "attach", "1", "--teardown-workers", "0"]).wait()
        #expect(bad.status == 125 && bad.stderr.contains("--teardown-workers"), "\(bad.stderr)")
    }
}
