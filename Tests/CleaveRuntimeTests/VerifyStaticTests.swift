import CleaveCgroups
import Foundation
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// `cleave verify -- PROGRAM` for a program LD_PRELOAD cannot reach: verify injects the helper
/// at the exec stop, as `cleave run` does, and the report says so. The checks that need no
/// memory controller run here on any cgroup2 host; the memory proof is in VerifyStaticVMTierTests.
@Suite("cleave verify injects the helper into a static command", .serialized,
       .enabled(if: TestEnvironment.hasCgroup2, "needs a cgroup2 hierarchy"))
struct VerifyStaticTests {
    @Test("a static program: the helper is injected at exec (the report says why), it is the one cleanup/<pid> in the cgroup, no check fails")
    func staticProgram() throws {
        let program = try VerifyStaticFixture.built.get().staticPath
        let run = try VerifyStaticFixture.verify(["--mode", "async", "--", program, "64"])
        let async = try #require(run.report.mode("async"), "\(run.stderr)")
        #expect(!async.checks.contains { $0.status == "fail" }, "\(async.checks.filter { $0.status == "fail" }) \(run.stderr)")
        #expect(run.status == (TestEnvironment.hasMemoryController ? 0 : 2), "\(run.report.summary) \(run.stderr)")
        #expect(async.status("2.helper-injected") == "pass")
        #expect(async.status("2.helper-present") == "pass")
        #expect(async.status("2.helper-in-cgroup") == "pass")
        #expect(async.status("3.populated-after-reap") == "pass")
        #expect(async.status("3.only-helpers-left") == "pass")
        #expect(async.status("4.populated-0") == "pass")
        let helper = try #require(async.helper, "the report has no helper origin")
        #expect(helper.method == "injection")
        #expect(helper.reason?.hasPrefix("static ELF") == true, "\(helper.reason ?? "nil")")
        let injected = try #require(helper.injected)
        #expect(async.helperPids == [injected.helper], "the cgroup's helper is the injected one")
        #expect(injected.pid == async.workloadPid)
        #expect(async.value("injection_pause") == Double(injected.pauseMicroseconds))
        #expect(!run.stderr.contains("could not inject"), "\(run.stderr)")
    }

    @Test("--inject on a dynamic program: one helper, the injected one (no LD_PRELOAD helper besides)")
    func injectDynamic() throws {
        let program = try VerifyStaticFixture.built.get().dynamicPath
        let run = try VerifyStaticFixture.verify(["--mode", "async", "--inject", "--", program, "64"])
        let async = try #require(run.report.mode("async"), "\(run.stderr)")
        #expect(!async.checks.contains { $0.status == "fail" }, "\(async.checks.filter { $0.status == "fail" }) \(run.stderr)")
        #expect(async.status("2.helper-injected") == "pass")
        let helper = try #require(async.helper)
        #expect(helper.method == "injection" && helper.reason == "--inject")
        #expect(async.helperPids.count == 1 && async.helperPids == helper.injected.map { [$0.helper] })
    }

    @Test("a setuid file (dynamic, but the loader ignores LD_PRELOAD for it) gets the injected helper, and only it")
    func setuidProgram() throws {
        let dynamic = try VerifyStaticFixture.built.get().dynamicPath
        let directory = "/tmp/cleave-test-verifysetuid-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try #require(mkdir(directory, 0o755) == 0)
        defer { TestEnvironment.removeTree(directory) }
        let program = directory + "/setuid"
        try #require(ChildProcess(["/bin/cp", dynamic, program]).wait().status == 0)
        // setuid nobody: euid != uid puts the loader in secure-execution mode (a setuid-root
        // file run by root does not, and then the preload gives a second helper).
        try #require(chown(program, 65534, 65534) == 0 && chmod(program, 0o4755) == 0)
        #expect(ExecutableKind.of(path: program) == .setID)
        let run = try VerifyStaticFixture.verify(["--mode", "async", "--", program, "16"])
        let async = try #require(run.report.mode("async"), "\(run.stderr)")
        #expect(!async.checks.contains { $0.status == "fail" }, "\(async.checks.filter { $0.status == "fail" }) \(run.stderr)")
        #expect(async.helper?.method == "injection" && async.helper?.reason == "setuid/setgid file")
        #expect(async.status("2.helper-injected") == "pass")
        #expect(async.helperPids.count == 1)
    }

    @Test("without --inject a dynamic program gets the preload's helper; sync mode injects nothing")
    func preloadAndSync() throws {
        let fixture = try VerifyStaticFixture.built.get()
        let dynamic = try VerifyStaticFixture.verify(["--mode", "async", "--", fixture.dynamicPath, "16"])
        let async = try #require(dynamic.report.mode("async"), "\(dynamic.stderr)")
        #expect(async.helper?.method == "preload")
        #expect(async.status("2.helper-injected") == nil)
        #expect(async.status("2.helper-present") == "pass")
        let sync = try VerifyStaticFixture.verify(["--mode", "sync", "--", fixture.staticPath, "16"])
        let mode = try #require(sync.report.mode("sync"), "\(sync.stderr)")
        #expect(mode.helper == nil)
        #expect(mode.status("2.no-helper") == "pass")
    }

    @Test("the table names the injection")
    func table() throws {
        let program = try VerifyStaticFixture.built.get().staticPath
        let parent = "cleave-test-verifystatic-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        defer { VerifyStaticFixture.remove(parent) }
        let result = try ChildProcess([TestEnvironment.cleave, "verify", "--parent", parent, "--mode", "async", "--", program, "16"]).wait(timeout: 600)
        #expect(result.stdout.contains("helper: injected at exec (static ELF"), "\(result.stdout)")
        #expect(result.stdout.contains("2.helper-injected"))
    }
}

/// The fixture built twice, the verify run and the parts of its JSON these tests read.
enum VerifyStaticFixture {
    static let built: Result<(staticPath: String, dynamicPath: String), CleaveError> = {
        CFixture.build("alloc_and_wait", flags: ["-O1", "-static"], output: "static").flatMap { staticPath in
            CFixture.build("alloc_and_wait", flags: ["-O1"], output: "dynamic").map { (staticPath, $0) }
        }
    }()

    struct Report: Decodable {
        struct Mode: Decodable {
            struct Reading: Decodable { var name: String; var value: Double? }
            struct Check: Decodable { var id: String; var status: String; var observed: String }
            struct Helper: Decodable {
                struct Injected: Decodable { var pid: Int32; var helper: Int32; var pauseMicroseconds: Int64 }
                var method: String
                var reason: String?
                var injected: Injected?
            }
            var mode: String
            var workloadPid: Int32?
            var helperPids: [Int32]
            var helper: Helper?
            var readings: [Reading]
            var checks: [Check]
            func value(_ name: String) -> Double? { readings.first { $0.name == name }?.value }
            func status(_ id: String) -> String? { checks.first { $0.id == id }?.status }
        }
        var modes: [Mode]
        var verdict: String
        var summary: String
        func mode(_ m: String) -> Mode? { modes.first { $0.mode == m } }
    }

    /// `cleave verify --json ARGS` below a parent cgroup of its own, removed afterwards.
    static func verify(_ args: [String]) throws -> (status: Int32, report: Report, stderr: String) {
        let parent = "cleave-test-verifystatic-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        defer { remove(parent) }
        let result = try ChildProcess([TestEnvironment.cleave, "verify", "--json", "--parent", parent] + args).wait(timeout: 900)
        guard let report = try? JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)) else {
            throw CleaveError.message("verify exited \(result.status) without a report: \(result.stderr)")
        }
        return (result.status, report, result.stderr)
    }

    /// What a verify killed mid-way may leave (it removes its cgroups itself otherwise).
    static func remove(_ parent: String) {
        guard let mount = TestEnvironment.mount, let cgroup = try? Cgroup(mount: mount, path: parent), cgroup.exists else { return }
        TestEnvironment.removeCgroupTree(cgroup)
    }
}
