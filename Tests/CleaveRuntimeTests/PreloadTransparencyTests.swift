import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// libcleave-teardown.so must leave the program as the kernel started it, and give
/// helpers to exactly the processes the README names.
@Suite("the preload's transparency and who gets a helper")
struct PreloadTransparencyTests {
    /// The fixture's report minus the LD_PRELOAD line itself (the one difference the caller made).
    private static func report(preloaded: Bool) throws -> (lines: [String], stderr: String) {
        var env = ["CLEAVE_TEARDOWN_INHERIT": "", "TRANSPARENCY_MARKER": "x"]
        env["LD_PRELOAD"] = preloaded ? TestEnvironment.teardownLibrary : ""
        env["CLEAVE_TEARDOWN_PID"] = nil
        let result = try ChildProcess([TeardownFixture.path(), "env", "second argument", ""], environment: env).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("env=LD_PRELOAD=") && !$0.hasPrefix("LD_PRELOAD=") }
        return (lines, result.stderr)
    }

    @Test("argv, environ (still the kernel's array), the auxiliary vector and a child's environment are the same with and without the preload")
    func preloadChangesNothingTheProgramSees() throws {
        // Only when the test runner itself runs without a designated pid: under cleave run the
        // variable was set by the caller and is rightly inherited.
        guard getenv("CLEAVE_TEARDOWN_PID") == nil else { return }
        let with = try Self.report(preloaded: true)
        let without = try Self.report(preloaded: false)
        // The preloaded run really had a helper.
        #expect(with.stderr.contains("helper=") && !with.stderr.contains("helper=0"), "stderr: \(with.stderr)")
        #expect(with.lines == without.lines,
                "differs:\n\(with.lines.filter { !without.lines.contains($0) })\nvs\n\(without.lines.filter { !with.lines.contains($0) })")
        #expect(with.lines.contains("argv[2]=second argument") && with.lines.contains("argv[3]="))
        #expect(with.lines.contains("environ-is-initial=yes"))
        #expect(with.lines.contains("auxv-consistent=yes"))
        #expect(!with.lines.contains { $0.contains("CLEAVE_TEARDOWN_PID") }, "the variable leaked: \(with.lines)")
    }

    @Test("a Swift program built with -static-stdlib sees its arguments under the preload (it saw none when the constructor called setenv)")
    func staticSwiftProgramKeepsArguments() throws {
        let directory = "/tmp/cleave-test-static-swift-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(directory, 0o755) == 0 else { Issue.record("mkdir \(directory)"); return }
        defer { TestEnvironment.removeTree(directory) }
        let source = directory + "/main.swift", binary = directory + "/args"
        let fd = open(source, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let text = "print(CommandLine.arguments.dropFirst().joined(separator: \",\"))\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let compiled = try ChildProcess(["/usr/bin/env", "swiftc", "-static-stdlib", source, "-o", binary]).wait(timeout: 300)
        try #require(compiled.status == 0, "swiftc: \(compiled.stderr)")
        // No CLEAVE_TEARDOWN_PID at all: the old constructor then added it with setenv, which
        // reallocated environ (replacing an existing variable does not).
        guard getenv("CLEAVE_TEARDOWN_PID") == nil else { return }
        let run = try ChildProcess([binary, "probe", "alloc", "2G"], environment: ["LD_PRELOAD": TestEnvironment.teardownLibrary]).wait()
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout == "probe,alloc,2G\n", "stdout: \(run.stdout)")
    }

    @Test("forked children get a helper only with CLEAVE_TEARDOWN_INHERIT=1",
          .enabled(if: TestEnvironment.hasCgroup2 && getuid() == 0, "needs root and a cgroup2 mount"),
          arguments: [true, false])
    func inheritAtFork(_ inherit: Bool) throws {
        let path = TestEnvironment.uniqueCgroupPath("inherit")
        defer { TestEnvironment.removeCgroup(path) }
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", TeardownFixture.path(), "fork-touch", "64"],
                                   environment: ["CLEAVE_TEARDOWN_INHERIT": inherit ? "1" : ""])
        var parent: Int32?, child: Int32?, childHelper: Int32?
        for _ in 0..<2 {
            let words = try #require(run.readLine(timeout: 60)).split(separator: " ")
            if words.first == "parent" { parent = Int32(words[1]) }
            if words.first == "child" { child = Int32(words[1]); childHelper = Int32(words[3]) }
        }
        let parentPid = try #require(parent), childPid = try #require(child)
        // The fork handler creates the child's helper before fork() returns in the child,
        // so the answer is already final when the child prints.
        let procs = try cgroup.processes()
        #expect(HelperInspection.liveHelpers(of: parentPid, among: procs).count == 1)
        let childHelpers = HelperInspection.liveHelpers(of: childPid, among: procs)
        if inherit {
            #expect(childHelpers.count == 1, "procs: \(procs.map { "\($0):\(ProcFS.comm($0) ?? "?")" })")
            #expect(childHelper == childHelpers.first)
            #expect(childHelpers.first.flatMap(ProcFS.parentPid) == childPid)
        } else {
            #expect(childHelpers.isEmpty, "procs: \(procs.map { "\($0):\(ProcFS.comm($0) ?? "?")" })")
            #expect(childHelper == 0)
        }
        kill(childPid, SIGKILL)
        kill(run.pid, SIGTERM)
        _ = try run.wait()
        #expect(TestEnvironment.eventually(timeout: 10) { !cgroup.exists })
    }

    @Test("the library exports only its two entry points and carries none of cleave's own code (the exit keeper and its 16 KiB stack)")
    func libraryCarriesOnlyTheHelper() throws {
        let exported = try ChildProcess(["/usr/bin/nm", "-D", "--defined-only", TestEnvironment.teardownLibrary]).wait()
        #expect(exported.status == 0, "nm: \(exported.stderr)")
        let names = exported.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(names.sorted() == ["cleave_teardown_helper_pid", "cleave_teardown_init"], "exported: \(names)")
        let all = try ChildProcess(["/usr/bin/nm", TestEnvironment.teardownLibrary]).wait()
        #expect(all.status == 0, "nm: \(all.stderr)")
        #expect(all.stdout.contains("cleave_helper_main"), "the symbol table is there: \(all.stdout.prefix(200))")
        #expect(!all.stdout.contains("keeper"), "\(all.stdout.split(separator: "\n").filter { $0.contains("keeper") })")
    }
}
