import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave run` against this machine's real cgroup2 hierarchy.
@Suite("cleave run (host tier)", .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct RunHostTests {
    @Test("the workload is in its cgroup before its first instruction")
    func placedBeforeFirstInstruction() throws {
        let path = TestEnvironment.uniqueCgroupPath("placed")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "cat", "/proc/self/cgroup"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").contains("0::/\(path)"))
        // The cgroup is removed once empty.
        #expect(TestEnvironment.eventually { !(try! Cgroup(mount: TestEnvironment.mount!, path: path)).exists })
    }

    @Test("the fork + cgroup.procs fallback also places the workload before exec")
    func fallbackPlacement() throws {
        let path = TestEnvironment.uniqueCgroupPath("fallback")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "cat", "/proc/self/cgroup"],
                                      environment: ["CLEAVE_SPAWN_FALLBACK": "1"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").contains("0::/\(path)"))
    }

    @Test("a cgroup still populated at --teardown-timeout is killed, removed and logged")
    func teardownTimeout() throws {
        let path = TestEnvironment.uniqueCgroupPath("timeout")
        defer { TestEnvironment.removeCgroup(path) }
        let log = "/tmp/cleave-test-events-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        // A background child outlives the workload and keeps the cgroup populated.
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--teardown-timeout", "500ms",
                                       "--", "sh", "-c", "sleep 300 >/dev/null 2>&1 & exit 0"],
                                      environment: ["CLEAVE_EVENT_LOG": log]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        #expect(TestEnvironment.eventually(timeout: 15) { !cgroup.exists }, "the watcher should kill and remove the cgroup")
        // The watcher logs the removal just after the rmdir.
        _ = TestEnvironment.eventually(timeout: 5) { EventLog(path: log).events().contains { $0.event == "cgroup-removed" } }
        let events = EventLog(path: log).events().map(\.event)
        #expect(events.contains("teardown-timeout"), "events: \(events)")
        #expect(events.contains("cgroup-removed"), "events: \(events)")
    }

    @Test("an existing cgroup that holds processes is refused")
    func busyCgroupRefused() throws {
        let path = TestEnvironment.uniqueCgroupPath("busy")
        defer { TestEnvironment.removeCgroup(path) }
        let first = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", TestEnvironment.cleave, "probe", "alloc", "1M"])
        _ = try #require(first.readLine())
        let second = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "true"]).wait()
        #expect(second.status == 125)
        #expect(second.stderr.contains("already holds"), "stderr: \(second.stderr)")
        kill(first.pid, SIGTERM)
        #expect(try first.wait().status == 143)
    }

    @Test("exit statuses are relayed like a shell", arguments: [
        (["sh", "-c", "exit 0"], Int32(0)),
        (["sh", "-c", "exit 7"], Int32(7)),
        (["sh", "-c", "kill -9 $$"], Int32(137)),
    ])
    func exitStatus(command: [String], expected: Int32) throws {
        let path = TestEnvironment.uniqueCgroupPath("status")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--"] + command).wait()
        #expect(result.status == expected, "stderr: \(result.stderr)")
    }

    @Test("forms the fast path leaves to swift-argument-parser: no --, an unknown flag (refused, not run), a missing value")
    func fullParserForms() throws {
        let path = TestEnvironment.uniqueCgroupPath("noseparator")
        defer { TestEnvironment.removeCgroup(path) }
        let plain = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "sh", "-c", "exit 5"]).wait()
        #expect(plain.status == 5, "stderr: \(plain.stderr)")
        // An unknown option is an error naming it (it used to become the command: exit 127).
        let unknown = try ChildProcess([TestEnvironment.cleave, "run", "--bogus", "1", "--", "true"]).wait()
        #expect(unknown.status == 125)
        #expect(unknown.stderr.contains("unknown option '--bogus'"), "stderr: \(unknown.stderr)")
        let missing = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", "--", "true"]).wait()
        #expect(missing.status == 125)
        #expect(missing.stderr.hasPrefix("cleave: Missing value for '--cgroup"), "stderr: \(missing.stderr)")
    }

    @Test("a missing command gives 127 and says so")
    func missingCommand() throws {
        let path = TestEnvironment.uniqueCgroupPath("missing")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "no-such-command-xyz"]).wait()
        #expect(result.status == 127)
        #expect(result.stderr.contains("cleave: cannot execute 'no-such-command-xyz'"))
        #expect(!(try Cgroup(mount: #require(TestEnvironment.mount), path: path)).exists)
    }

    @Test("a file that is not executable gives 126")
    func notExecutable() throws {
        let path = TestEnvironment.uniqueCgroupPath("noexec")
        defer { TestEnvironment.removeCgroup(path) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "/etc/hostname"]).wait()
        #expect(result.status == 126, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("cannot execute '/etc/hostname'"))
    }

    @Test("bad input is refused with exit 125 and a message naming it", arguments: [
        (["--memory-max", "12Q"], "--memory-max"),
        (["--teardown-timeout", "soon"], "--teardown-timeout"),
        (["--teardown", "later"], "--teardown"),
        (["--cgroup", "../escape"], ".."),
        (["--cpu-weight", "0"], "--cpu-weight"),
        (["--set", "nodot=1"], "--set"),
        (["--pids-max", "5"], "pids"),   // pids is not in this hybrid host's cgroup2 hierarchy
    ])
    func badInput(flags: [String], mentions: String) throws {
        if flags.first == "--pids-max" && ((try? TestEnvironment.mount?.availableControllers())??.contains("pids") ?? false) { return }
        let result = try ChildProcess([TestEnvironment.cleave, "run"] + flags + ["--", "true"]).wait()
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("cleave: "))
        #expect(result.stderr.contains(mentions), "stderr: \(result.stderr)")
    }

    @Test("the helper runs beside the workload, named cleanup/<pid>, in its cgroup; SIGTERM is forwarded")
    func helperAndSignalForwarding() throws {
        let path = TestEnvironment.uniqueCgroupPath("helper")
        defer { TestEnvironment.removeCgroup(path) }
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--",
                                    TestEnvironment.cleave, "probe", "alloc", "64M"])
        let ready = try #require(run.readLine(), "probe never said ready")
        let pid = try #require(Int32(ready.dropFirst("ready ".count)))
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        let procs = try cgroup.processes()
        let helpers = TeardownHelpers.helpers(among: procs)
        #expect(helpers.count == 1, "procs: \(procs)")
        let helper = try #require(helpers.first)
        #expect(ProcFS.comm(helper) == "cleanup/\(pid)")
        #expect(ProcFS.cgroupPath(helper) == "/" + path)
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(helper))

        kill(run.pid, SIGTERM)
        let result = try run.wait()
        #expect(result.status == 128 + SIGTERM, "stderr: \(result.stderr)")
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(helper) })
        #expect(TestEnvironment.eventually { !cgroup.exists }, "the watcher should remove the cgroup once the helper is gone")
    }

    @Test("sync teardown injects no helper")
    func syncHasNoHelper() throws {
        let path = TestEnvironment.uniqueCgroupPath("sync")
        defer { TestEnvironment.removeCgroup(path) }
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "sync", "--cgroup", path, "--",
                                    TestEnvironment.cleave, "probe", "alloc", "16M"])
        _ = try #require(run.readLine())
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        #expect(TeardownHelpers.helpers(among: try cgroup.processes()).isEmpty)
        kill(run.pid, SIGINT)
        #expect(try run.wait().status == 128 + SIGINT)
    }

    @Test("a helper follows exec: sh -c 'exec probe' ends with one helper for the probe, none for other children")
    func helperFollowsExec() throws {
        let path = TestEnvironment.uniqueCgroupPath("exec")
        defer { TestEnvironment.removeCgroup(path) }
        let script = "sleep 300 >/dev/null 2>&1 & exec \(TestEnvironment.cleave) probe alloc 256M"
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "sh", "-c", script])
        let ready = try #require(run.readLine())
        let pid = try #require(Int32(ready.dropFirst("ready ".count)))
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        let procs = try cgroup.processes()
        let helpers = TeardownHelpers.helpers(among: procs)
        #expect(helpers.count == 1, "procs: \(procs.map { "\($0):\(ProcFS.comm($0) ?? "?")" })")
        let helper = try #require(helpers.first)
        #expect(ProcFS.comm(helper) == "cleanup/\(pid)")
        // It holds the probe's memory: it shares the probe's address space.
        let rss = ProcFS.status(helper, field: "VmRSS").flatMap { UInt64($0.split(separator: " ").first ?? "") } ?? 0
        #expect(rss >= 200 * 1024, "helper VmRSS \(rss) kB")
        kill(run.pid, SIGTERM)
        #expect(try run.wait().status == 143)
        // The background sleep is still in the cgroup; the watcher kills it at the timeout,
        // the test's cleanup kills it now.
    }

    @Test("a multi-threaded workload is reaped before its helper frees the memory")
    func multiThreadedWorkload() throws {
        let path = TestEnvironment.uniqueCgroupPath("threads")
        defer { TestEnvironment.removeCgroup(path) }
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--",
                                    TestEnvironment.cleave, "probe", "alloc", "1G", "--threads", "4"])
        let ready = try #require(run.readLine(timeout: 120))
        let pid = try #require(Int32(ready.dropFirst("ready ".count)))
        #expect((ProcFS.status(pid, field: "Threads").flatMap { Int($0) } ?? 0) >= 5)
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        let helper = try #require(TeardownHelpers.helpers(of: pid, among: try cgroup.processes()).first)
        kill(run.pid, SIGTERM)
        let result = try run.wait()
        // cleave has returned: every thread of the workload is reaped. The helper
        // still holds the 1 GiB address space and is freeing it now.
        let helperStillThere = ProcFS.isAlive(helper)
        #expect(result.status == 143)
        #expect(helperStillThere, "the helper should outlive every thread of the workload and do the freeing")
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) })
    }

    @Test("a helper that cannot be created leaves the workload running normally, with a warning")
    func helperCreationFails() throws {
        let path = TestEnvironment.uniqueCgroupPath("noclone")
        defer { TestEnvironment.removeCgroup(path) }
        let fixture = #filePath.split(separator: "/").dropLast().joined(separator: "/")
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "python3",
                                       "/" + fixture + "/Fixtures/deny_syscall.py", "56", "1", "--flags", "0x100", "sh", "-c", "echo ran; exit 3"]).wait()
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("ran"))
        #expect(result.stderr.contains("cleave-teardown: warning: cannot start the teardown helper (Operation not permitted)"),
                "stderr: \(result.stderr)")
    }

    @Test("the state file records the run")
    func stateFile() throws {
        let path = TestEnvironment.uniqueCgroupPath("state")
        defer { TestEnvironment.removeCgroup(path) }
        let file = "/tmp/cleave-test-state-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        defer { unlink(file) }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--state-file", file, "--", "sh", "-c", "exit 3"]).wait()
        #expect(result.status == 3)
        let state = try RunState.read(from: file)
        #expect(state.exitCode == 3)
        #expect(state.cgroup.hasSuffix(path))
        #expect(state.pid != nil)
        #expect(state.exitedAt != nil && state.startedAt != nil)
    }
}
