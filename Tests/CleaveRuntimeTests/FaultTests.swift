import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// What happens when a part of cleave, the helper or the cgroup is killed, frozen or
/// removed under a run, and how `cleave gc` cleans up after a killed cleave.
@Suite("Faults (host tier)", .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct FaultTests {
    @Test("cleave SIGKILLed while the workload runs: the workload runs on, ps lists it, gc leaves it, then collects it once it is gone")
    func supervisorKilledWhileRunning() throws {
        let fx = GCFixture("svkill")
        defer { fx.cleanup() }
        let run = try fx.run("w", [], GCFixture.detached([TestEnvironment.cleave, "probe", "alloc", "8M"]))
        let cgroup = try fx.cgroup("w")
        let workload = try #require(GCFixture.workloadAndHelper(in: cgroup, comm: "cleave")?.workload)
        #expect(fx.records().count == 1, "one record while the run is live")

        kill(run.pid, SIGKILL)
        #expect(try run.wait().status == 137)
        usleep(100_000)
        #expect(ProcFS.isAlive(workload), "the workload must outlive cleave")
        #expect(try cgroup.processes().contains(workload))

        let ps = try ChildProcess([TestEnvironment.cleave, "ps", "--json", "--parent", fx.parent]).wait()
        let listed = try JSONDecoder().decode(PSReport.self, from: Data(ps.stdout.utf8)).cgroups
        #expect(listed.map(\.path) == [cgroup.path])
        #expect(listed.first?.state == .running)
        #expect(listed.first?.pids.contains(workload) == true)

        // Populated and no --force: listed, left alone, exit 1.
        let first = try fx.gc()
        #expect(first.status == 1, "stderr: \(first.stderr)")
        #expect(first.findings.map(\.action) == ["left"], "\(first.findings)")
        #expect(first.findings.first?.detail.contains("supervisor") == true)
        #expect(ProcFS.isAlive(workload) && cgroup.exists && fx.records().count == 1)

        kill(workload, SIGKILL)
        #expect(TestEnvironment.eventually { (try? cgroup.isPopulated()) == false })
        let second = try fx.gc()
        #expect(second.status == 0, "stderr: \(second.stderr) \(second.findings)")
        #expect(Set(second.findings.map { "\($0.action) \($0.kind)" }) == ["removed cgroup", "removed state"])
        try fx.expectNothingLeft(cgroup)
    }

    @Test("gc --dry-run changes nothing; gc --force kills a populated orphan and removes it and its record")
    func forceAndDryRun() throws {
        let fx = GCFixture("force")
        defer { fx.cleanup() }
        let run = try fx.run("w", [], GCFixture.detached(["sleep", "300"]))
        let cgroup = try fx.cgroup("w")
        // (Its helper may be the sh image's, retiring after the exec: only the workload is checked.)
        let workload = try #require(GCFixture.workloadAndHelper(in: cgroup, comm: "sleep")?.workload)
        kill(run.pid, SIGKILL)
        _ = try run.wait()
        let pids = [workload]

        let dry = try fx.gc(["--dry-run", "--force"])
        #expect(dry.status == 1)
        #expect(dry.findings.map(\.action).contains("would kill+remove"), "\(dry.findings)")
        #expect(pids.allSatisfy(ProcFS.isAlive), "a dry run kills nothing")
        #expect(fx.records().count == 1)

        let forced = try fx.gc(["--force"])
        #expect(forced.status == 0, "\(forced.findings) \(forced.stderr)")
        #expect(Set(forced.findings.map { "\($0.action) \($0.kind)" }) == ["killed+removed cgroup", "removed state"])
        #expect(!cgroup.exists && fx.records().isEmpty)
        #expect(TestEnvironment.eventually { pids.allSatisfy { !ProcFS.isAlive($0) } })
    }

    @Test("gc acts only when the run's lock is free: a held lock owns its cgroup and record, a free one does not")
    func ownerIsTheLock() throws {
        let fx = GCFixture("owner")
        defer { fx.cleanup() }
        let mount = try #require(TestEnvironment.mount)
        let me = getpid()
        let start = try #require(ProcFS.startTime(me))
        func record(_ name: String, held: Bool) throws -> (Cgroup, String, OwnerLock) {
            let cgroup = try Cgroup(mount: mount, path: fx.cgroupPath(name))
            try cgroup.create()
            // The recorded supervisor is this live process either way: only the lock counts.
            let json = #"{"id":"\#(name)","name":"\#(name)","cgroup":"\#(cgroup.path)","helperPids":[],"teardown":"async","#
                + #""status":"running","createdAt":0,"supervisorPid":\#(me),"supervisorStartTime":\#(start)}"#
            let file = RunState.recordPath(id: name, supervisorPid: me, directory: fx.stateDirectory)
            let lock = try OwnerLock.acquire(RunState.lockPath(forRecord: file))
            #expect(try cgroup.claim(OwnerMark(kind: .created, lock: lock.path), adoptAs: .created)
                    == .claimed(OwnerMark(kind: .created, lock: lock.path)))
            try AtomicFile.write(Array(json.utf8), to: file)
            _ = try RunState.read(from: file)
            if !held { lock.release() }
            return (cgroup, file, lock)
        }
        let (live, liveFile, liveLock) = try record("live", held: true)
        defer { liveLock.release() }
        let (gone, goneFile, _) = try record("gone", held: false)

        let result = try fx.gc()
        #expect(result.status == 0, "\(result.findings)")
        #expect(live.exists && access(liveFile, F_OK) == 0, "a held lock's cgroup and record stay")
        #expect(!gone.exists && access(goneFile, F_OK) != 0, "a free lock owns nothing")
        #expect(result.findings.first { $0.path == gone.path }?.detail.contains("is not held") == true, "\(result.findings)")
        #expect(ProcessIdentity.check(pid: me, startTime: start) == .alive)
        #expect(ProcessIdentity.check(pid: me, startTime: start + 1) == .reused(start))
    }

    @Test("gc --force leaves a live run alone even when its record is in another state directory")
    func liveRunWithoutRecordHere() throws {
        let fx = GCFixture("liverun")
        defer { fx.cleanup() }
        let (run, workload, _) = try fx.runProbe("w")
        let elsewhere = "/tmp/cleave-test-state-empty-\(UInt32.random(in: 0...UInt32.max))"
        defer { rmdir(elsewhere) }
        #expect(mkdir(elsewhere, 0o755) == 0)
        let gc = try ChildProcess([TestEnvironment.cleave, "gc", "--json", "--force", "--parent", fx.parent,
                                   "--state-dir", elsewhere]).wait()
        #expect(gc.status == 0, "stdout: \(gc.stdout) stderr: \(gc.stderr)")
        #expect(ProcFS.isAlive(workload))
        #expect(try fx.cgroup("w").exists)
        kill(run.pid, SIGTERM)
        #expect(try run.wait().status == 143)
    }

    @Test("cleave's watcher SIGKILLed while the helper tears down: the helper still exits once its parent is gone; gc collects the rest")
    func watcherKilledDuringTeardown() throws {
        let fx = GCFixture("wkill")
        defer { fx.cleanup() }
        let (run, workload, cgroup) = try fx.runProbe("w")
        let helper = try #require(TeardownHelpers.helpers(of: workload, among: try cgroup.processes()).first)

        // Hold the teardown: a frozen helper cannot run; SIGKILL still ends the frozen workload.
        #expect(try GCFixture.freeze(cgroup))
        kill(workload, SIGKILL)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 137, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("frozen"), "cleave warns that the teardown is held: \(result.stderr)")
        let watcher = try #require(GCFixture.watcherPid(for: cgroup), "cleave should have left a teardown watcher")
        // cleave is gone but its watcher owns the cgroup: even --force leaves it and its record alone.
        let owned = try fx.gc(["--force"])
        #expect(owned.status == 0 && owned.findings.isEmpty, "\(owned.findings)")
        #expect(ProcFS.isAlive(helper) && fx.records().count == 1)
        kill(watcher, SIGKILL)
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(watcher) })
        #expect(ProcFS.isAlive(helper))

        try cgroup.freeze(false)
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(helper) }, "the helper exits once its parent is gone")
        #expect(TestEnvironment.eventually { (try? cgroup.isPopulated()) == false })
        #expect(fx.records().count == 1, "the killed watcher could not remove the record")
        let gc = try fx.gc()
        #expect(gc.status == 0, "\(gc.findings) \(gc.stderr)")
        #expect(!cgroup.exists && fx.records().isEmpty)
    }

    @Test("the helper SIGKILLed early: the workload is unaffected and exits normally")
    func helperKilledEarly() throws {
        let fx = GCFixture("hkill")
        defer { fx.cleanup() }
        let run = try fx.run("w", [], ["sh", "-c", "sleep 2; echo still-here; exit 6"])
        let cgroup = try fx.cgroup("w")
        let (workload, helper) = try #require(GCFixture.workloadAndHelper(in: cgroup, comm: "sh"))
        kill(helper, SIGKILL)
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(helper) })
        #expect(ProcFS.isAlive(workload), "the workload must survive its helper")
        let result = try run.wait(timeout: 30)
        #expect(result.status == 6, "stderr: \(result.stderr)")
        #expect(result.stdout == "still-here\n")
        #expect(TestEnvironment.eventually { !cgroup.exists })
        #expect(TestEnvironment.eventually { fx.records().isEmpty })
    }

    @Test("a helper held frozen past --teardown-timeout: the cgroup is killed, removed and the event logged")
    func frozenHelperPastTimeout() throws {
        let fx = GCFixture("frozen")
        defer { fx.cleanup() }
        let (run, workload, cgroup) = try fx.runProbe("w", ["--teardown-timeout", "1s"])
        let helper = try #require(TeardownHelpers.helpers(of: workload, among: try cgroup.processes()).first)
        #expect(try GCFixture.freeze(cgroup))
        let started = Clock.monotonicNanoseconds()
        kill(workload, SIGKILL)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 137)
        #expect(Double(Clock.monotonicNanoseconds() - started) / 1e9 < 5, "cleave returns without waiting for the frozen helper")
        #expect(TestEnvironment.eventually(timeout: 20) { !cgroup.exists }, "the watcher kills and removes the cgroup")
        // A task leaves its cgroup (cgroup_exit) before it turns zombie: wait, do not look once.
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(helper) })
        // The watcher logs the removal after the rmdir: wait for the line, do not look once.
        var events = [String]()
        #expect(TestEnvironment.eventually(timeout: 20) {
            events = fx.events()
            return events.contains("teardown-timeout") && events.contains("cgroup-removed")
        }, "events: \(events)")
        #expect(TestEnvironment.eventually { fx.records().isEmpty })
    }

    @Test("the cgroup emptied and removed from outside during a run: the exit is relayed at once, with a warning")
    func cgroupRemovedFromOutside() throws {
        let fx = GCFixture("removed")
        defer { fx.cleanup() }
        let mount = try #require(TestEnvironment.mount)
        let (run, workload, cgroup) = try fx.runProbe("w")
        // Another manager moves the processes elsewhere and removes the cgroup.
        let elsewhere = try Cgroup(mount: mount, path: fx.cgroupPath("elsewhere"))
        try elsewhere.create()
        for pid in try cgroup.processes() { try elsewhere.write("cgroup.procs", String(pid)) }
        try cgroup.remove()
        kill(workload, SIGTERM)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 143, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("warning") && result.stderr.contains("removed during the run"), "stderr: \(result.stderr)")
        #expect(TestEnvironment.eventually { fx.records().isEmpty }, "the run ended normally: no record is left")
    }

    @Test("the cgroup frozen from outside during a run: a forwarded signal is held with a warning; the exit is relayed after the thaw")
    func cgroupFrozenFromOutside() throws {
        let fx = GCFixture("extfreeze")
        defer { fx.cleanup() }
        // A workload that shuts down on SIGTERM (a handler: the kernel does not turn it into a kill).
        let run = try fx.run("w", ["--teardown", "sync"],
                             ["sh", "-c", "trap 'echo term; exit 9' TERM; echo ready; while :; do sleep 0.05; done"])
        #expect(run.readLine() == "ready")
        let cgroup = try fx.cgroup("w")
        #expect(try GCFixture.freeze(cgroup))
        kill(run.pid, SIGTERM)
        usleep(300_000)
        #expect(ProcFS.isAlive(run.pid), "the frozen workload has not taken the signal yet")
        try cgroup.freeze(false)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 9, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("term"))
        #expect(result.stderr.contains("is frozen"), "stderr: \(result.stderr)")
        #expect(TestEnvironment.eventually { !cgroup.exists })
    }
}
