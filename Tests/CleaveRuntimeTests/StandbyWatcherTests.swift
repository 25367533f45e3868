import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The standby teardown watcher (StandbyWatcher): started while an async run's workload runs,
/// given the run at the exit; cleave returns with the status written, the watcher finishes.
@Suite("standby teardown watcher", .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct StandbyWatcherTests {
    /// A cgroup path, a --state-file and a record directory of one test's own.
    struct Scratch {
        let path: String, file: String, stateDir: String, cgroup: Cgroup

        init(_ label: String) throws {
            let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            path = TestEnvironment.uniqueCgroupPath(label)
            file = "/tmp/cleave-test-standby-\(tag).json"
            stateDir = "/tmp/cleave-test-standby-runs-\(tag)"
            cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
        }

        func remove() {
            TestEnvironment.removeCgroup(path)
            unlink(file)
            TestEnvironment.removeTree(stateDir)
        }

        /// `cleave run --teardown async` of `sh -c script` in this cgroup, its records here.
        func start(_ script: String) throws -> ChildProcess {
            try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "async", "--cgroup", path, "--", "sh", "-c", script],
                             environment: ["CLEAVE_STATE_DIR": stateDir])
        }
    }

    @Test("a run handed to its standby watcher: status and exit code at the return, removed and complete later")
    func recordReachesItsFinalState() throws {
        let scratch = try Scratch("standby")
        defer { scratch.remove() }
        let (path, file, stateDir, cgroup) = (scratch.path, scratch.file, scratch.stateDir, scratch.cgroup)
        // The workload outlives the standby delay; a background sleep keeps the cgroup populated
        // after the exit, so the run is the watcher's.
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "async", "--cgroup", path, "--state-file", file,
                                    "--", "sh", "-c", "sleep 1 >/dev/null 2>&1 & echo started; sleep 0.5; exit 3"],
                                   environment: ["CLEAVE_STATE_DIR": stateDir])
        #expect(run.readLine() == "started")
        // Started before the exit (only a standby has --handover), and it still holds the run after it.
        let watcher = try #require(Self.standbyWatcher(for: cgroup), "a standby watcher should wait while the workload runs")
        let result = try run.wait()
        #expect(result.status == 3, "stderr: \(result.stderr)")
        // The --state-file has the end when cleave returns.
        let atExit = try RunState.read(from: file)
        #expect(atExit.exitCode == 3 && atExit.signal == nil)
        #expect(atExit.status == .stopped || atExit.status == .removed)
        #expect(atExit.exitedAt != nil)
        // The run's record gets it from the watcher (unless the watcher has already removed it).
        let record = RunState.recordPath(id: atExit.id, supervisorPid: run.pid, directory: stateDir)
        #expect(TestEnvironment.eventually(timeout: 10) {
            guard let state = try? RunState.read(from: record) else { return access(record, F_OK) != 0 }
            return state.exitCode == 3 && state.exitedAt != nil
        }, "the watcher should write the exit code cleave handed it into the record")
        // What the watcher adds: the statistics, then the removal; the record and lock go.
        #expect(TestEnvironment.eventually(timeout: 15) { (try? RunState.read(from: file))?.status == .removed },
                "the watcher should bring the state file to removed")
        let final = try RunState.read(from: file)
        #expect(final.exitCode == 3 && final.cgroupRemovedAt != nil && final.teardownTimedOut == false)
        #expect(final.oomKilled == false || !TestEnvironment.hasMemoryController, "the watcher should record the OOM count")
        #expect(!cgroup.exists)
        #expect(TestEnvironment.eventually(timeout: 10) {
            access(record, F_OK) != 0 && access(RunState.lockPath(forRecord: record), F_OK) != 0
        }, "the record and its lock should be removed")
        #expect(TestEnvironment.eventually(timeout: 10) { !ProcFS.isAlive(watcher) })
    }

    @Test("a SIGKILLed workload: the --state-file has signal 9 and 137 at the return; the watcher writes them into the run's record")
    func signalReachesTheRecord() throws {
        let scratch = try Scratch("standby-kill")
        defer { scratch.remove() }
        let (path, file, stateDir, cgroup) = (scratch.path, scratch.file, scratch.stateDir, scratch.cgroup)
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "async", "--cgroup", path, "--state-file", file,
                                    "--", "sh", "-c", "sleep 3 >/dev/null 2>&1 & echo started; exec sleep 30"],
                                   environment: ["CLEAVE_STATE_DIR": stateDir])
        #expect(run.readLine() == "started")
        _ = try #require(Self.standbyWatcher(for: cgroup), "a standby watcher should wait while the workload runs")
        var workload: Int32?
        _ = TestEnvironment.eventually(timeout: 5) {
            workload = (try? RunState.read(from: file)).flatMap { $0.status == .running ? $0.pid : nil }
            return workload != nil
        }
        kill(try #require(workload, "the state file should name the running workload"), SIGKILL)
        let result = try run.wait()
        #expect(result.status == 137, "stderr: \(result.stderr)")
        let atExit = try RunState.read(from: file)
        #expect(atExit.signal == SIGKILL && atExit.exitCode == 137, "the --state-file at cleave's return")
        // The run's record: written by the watcher (the background sleep keeps it for 3 s).
        let record = RunState.recordPath(id: atExit.id, supervisorPid: run.pid, directory: stateDir)
        #expect(TestEnvironment.eventually(timeout: 10) {
            (try? RunState.read(from: record)).map { $0.signal == SIGKILL && $0.exitCode == 137 && $0.exitedAt != nil } ?? false
        }, "the watcher should write the signal cleave handed it into the record")
        #expect(TestEnvironment.eventually(timeout: 15) { (try? RunState.read(from: file))?.status == .removed })
    }

    @Test("a short async run needs no watcher: cleave waits the moment its helper takes and removes the cgroup itself")
    func shortRunWithoutWatcher() throws {
        let scratch = try Scratch("short")
        defer { scratch.remove() }
        // dd with a 4 MiB buffer ends long before the standby delay; its helper, freeing those
        // pages, ends within a fraction of a millisecond of it. Without the wait for the helper,
        // cleave saw it still there in 30 runs of 30 and started a watcher, which removed the
        // cgroup after cleave's exit (in 0 of 30 with it). On a machine busy with other tests a
        // helper may wait for a CPU longer than the bound: half the runs may go to a watcher.
        var handedToWatcher = 0
        for _ in 0..<20 {
            let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", "async", "--cgroup", scratch.path,
                                        "--", "/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=4M", "count=1", "status=none"],
                                       environment: ["CLEAVE_STATE_DIR": scratch.stateDir])
            // The exit alone (a watcher would hold cleave's stdout), seen the moment it happens.
            #expect(run.exitStatus(timeout: 30) == 0)
            let leftToWatcher = scratch.cgroup.exists
            #expect(try run.wait().status == 0)
            if leftToWatcher {
                handedToWatcher += 1
                #expect(TestEnvironment.eventually(timeout: 10) { !scratch.cgroup.exists }, "the watcher should remove the cgroup")
            }
        }
        #expect(handedToWatcher <= 10, "\(handedToWatcher) of 20 runs left the cgroup to a watcher")
    }

    @Test("waiting for helpers: true once every pid has exited (or never existed), false at the bound")
    func helperExitWait() throws {
        let quick = try ChildProcess(["/bin/sh", "-c", "sleep 0.05"])
        #expect(TeardownHelpers.waitForExit(of: [quick.pid], within: .seconds(10)))
        _ = try quick.wait()
        let slow = try ChildProcess(["/bin/sleep", "30"])
        defer { kill(slow.pid, SIGKILL); _ = try? slow.wait() }
        let start = Clock.monotonicNanoseconds()
        #expect(!TeardownHelpers.waitForExit(of: [slow.pid], within: .milliseconds(50)))
        #expect(Clock.monotonicNanoseconds() - start >= 50_000_000, "the bound should be waited in full")
        #expect(TeardownHelpers.waitForExit(of: [], within: .milliseconds(1)))
    }

    @Test("the handover message: the workload's end round-trips; anything else is no handover")
    func handoverMessage() {
        let cases: [StandbyWatcher.Handover] = [
            .init(status: .exited(0), exitedAt: 1_764_950_400.25, oomKilled: false),
            .init(status: .exited(255), exitedAt: 1, oomKilled: false),
            .init(status: .signaled(SIGKILL), exitedAt: 1_764_950_400.123456, oomKilled: true),
        ]
        for handover in cases {
            #expect(StandbyWatcher.Handover(message: handover.message[...]) == handover)
        }
        for bad in ["", "cleave-handover-1", "cleave-handover-2 exit 0 1.0", "cleave-handover-2 exit 300 1.0 -",
                    "cleave-handover-2 signal 0 1.0 -", "cleave-handover-2 quit 1 1.0 -", "cleave-handover-2 exit 0 x -",
                    "cleave-handover-2 exit 0 1.0 oom extra", "cleave-handover-2 exit 0 1.0 yes"] {
            #expect(StandbyWatcher.Handover(message: Array(bad.utf8)[...]) == nil, "\(bad)")
        }
    }

    static func files(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The `cleave __watch-teardown --handover` waiting on `cgroup`, within 10 s.
    static func standbyWatcher(for cgroup: Cgroup) -> Int32? {
        var found: Int32?
        _ = TestEnvironment.eventually(timeout: 10) {
            found = ProcFS.allPids().first { pid in
                let args = (FileIO.read("/proc/\(pid)/cmdline") ?? "").split(separator: "\0").map(String.init)
                return args.count > 3 && args[1] == "__watch-teardown" && args.contains(cgroup.path)
                    && args.contains("--handover") && ProcFS.isAlive(pid)
            }
            return found != nil
        }
        return found
    }

    @Test("the standby watcher stays in cleave's session, in a process group of its own, at SCHED_IDLE while it waits")
    func watcherSession() throws {
        let scratch = try Scratch("standby-session")
        defer { scratch.remove() }
        let cgroup = scratch.cgroup
        let run = try scratch.start("echo started; sleep 2")
        #expect(run.readLine() == "started")
        let watcher = try #require(Self.standbyWatcher(for: cgroup), "a standby watcher should wait while the workload runs")
        // Where the scheduler groups a session's tasks (autogroup), a session of its own would
        // rank the watcher's SCHED_IDLE only against itself, not against the manager's tasks.
        #expect(getsid(watcher) == getsid(run.pid), "the watcher's session \(getsid(watcher)), cleave's \(getsid(run.pid))")
        // Its own process group: a terminal's SIGINT to cleave's group does not reach it.
        #expect(getpgid(watcher) == watcher && getpgid(run.pid) != watcher)
        if let own = FileIO.read("/proc/\(watcher)/autogroup"), let cleaves = FileIO.read("/proc/\(run.pid)/autogroup") {
            #expect(own.split(separator: " ").first == cleaves.split(separator: " ").first, "\(own) against cleave's \(cleaves)")
        }
        if geteuid() == 0 {
            #expect(TestEnvironment.eventually(timeout: 10) { sched_getscheduler(watcher) == 5 /* SCHED_IDLE */ })
        }
        #expect(try run.wait().status == 0)
        #expect(TestEnvironment.eventually(timeout: 10) { !ProcFS.isAlive(watcher) })
        #expect(TestEnvironment.eventually(timeout: 10) { !cgroup.exists })
    }

    @Test("cleave SIGKILLed while its workload runs: the standby watcher ends without the run (left for gc)")
    func standbyEnds() throws {
        let scratch = try Scratch("standby-kill")
        defer { scratch.remove() }
        let (cgroup, stateDir) = (scratch.cgroup, scratch.stateDir)
        let run = try scratch.start("echo started; exec sleep 300")
        #expect(run.readLine() == "started")
        let watcher = Self.standbyWatcher(for: cgroup)
        #expect(watcher != nil, "a standby watcher should wait while the workload runs")
        kill(run.pid, SIGKILL)
        // Only the exit: the orphaned sleep keeps cleave's stdout open.
        #expect(run.exitStatus(timeout: 10) != nil)
        // The lock was never handed over: the watcher ends and touches nothing (gc's job).
        if let watcher { #expect(TestEnvironment.eventually(timeout: 10) { !ProcFS.isAlive(watcher) }) }
        #expect(cgroup.exists, "the orphaned workload's cgroup is left for cleave gc")
        // Nobody holds the run's lock any more: gc may take it.
        let locks = Self.files(in: stateDir).filter { $0.hasSuffix(".lock") && $0 != "cgroup-setup.lock" }
        #expect(locks.count == 1, "locks: \(locks)")
        for lock in locks {
            #expect(TestEnvironment.eventually(timeout: 10) { !OwnerLock.isHeld(stateDir + "/" + lock) }, "\(lock) is still held")
        }
        try? cgroup.remove(killFirst: true, timeout: .seconds(10))
    }
}
