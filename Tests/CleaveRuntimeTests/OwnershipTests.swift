import CCleaveSystem
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

/// cleave kills and removes only what it created, two runs never share a cgroup, gc takes
/// nothing on a process's word, and detached processes keep none of cleave's descriptors.
@Suite("Ownership: cleave touches only what it created (host tier)",
       .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct OwnershipTests {
    /// A process cleave never started, placed in `cgroup` (stdio on /dev/null).
    static func stranger(in cgroup: Cgroup) throws -> ChildProcess {
        let child = try ChildProcess(["/bin/sh", "-c", "echo $$ > \"$0\"/cgroup.procs && exec sleep 300 </dev/null >/dev/null 2>&1",
                                      cgroup.path])
        #expect(TestEnvironment.eventually { (try? cgroup.processes())?.contains(child.pid) == true })
        return child
    }

    @Test("an existing cgroup with a child is refused: a process in outer/inner that cleave never started survives, outer/inner remains")
    func existingWithChildRefused() throws {
        let fx = GCFixture("outer")
        defer { fx.cleanup() }
        let inner = try fx.cgroup("outer/inner")
        try inner.create()
        let stranger = try Self.stranger(in: inner)
        let result = try fx.run("outer", ["--teardown-timeout", "300ms"], ["true"]).wait()
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("child cgroup"), "stderr: \(result.stderr)")
        usleep(800_000)
        let outer = try fx.cgroup("outer")
        #expect(ProcFS.isAlive(stranger.pid) && inner.exists && outer.exists)
    }

    @Test("a leaf that existed and is removed before the run marks it (a finishing run's watcher) is created anew, the run's own")
    func existingRemovedBeforeTheMark() throws {
        let fx = GCFixture("vanish")
        defer { fx.cleanup() }
        let leaf = try fx.cgroup("leaf")
        try leaf.create()
        let lockPath = "/tmp/cleave-test-vanish-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).lock"
        let lock = try OwnerLock.acquire(lockPath)
        defer { lock.release(); unlink(lockPath) }
        var removals = 0
        let placement = try CgroupSetup.prepare(leaf, limits: ResourceLimits(), mount: leaf.mount, lock: lockPath, keep: false,
                                                beforeClaim: { if removals == 0 && rmdir(leaf.path) == 0 { removals += 1 } })
        #expect(removals == 1, "the leaf was removed between the mkdir and the mark")
        #expect(placement.owned && placement.created.last == leaf, "made anew by this run, so it is the run's to remove")
        #expect(leaf.exists && leaf.ownerMark() == placement.mark && placement.mark?.lock == lockPath)
        placement.undo()
        #expect(!leaf.exists)
    }

    @Test("an existing empty cgroup is used but never killed nor removed, the timeout included; it can be used again")
    func existingNeverKilledNorRemoved() throws {
        let fx = GCFixture("existing")
        defer { fx.cleanup() }
        let outer = try fx.cgroup("outer")
        try outer.create()
        // The workload leaves a background child: the cgroup stays populated past the timeout.
        let result = try fx.run("outer", ["--teardown-timeout", "300ms"],
                                ["sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 & echo $!"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let sleeper = try #require(Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(sleeper, SIGKILL) }
        #expect(TestEnvironment.eventually(timeout: 15) { fx.events().contains("teardown-timeout") }, "events: \(fx.events())")
        // The watcher logs, then releases the cgroup and ends.
        #expect(TestEnvironment.eventually(timeout: 10) { GCFixture.watcherPid(for: outer, timeout: 0) == nil })
        #expect(ProcFS.isAlive(sleeper), "the existing cgroup's processes are not cleave's to kill")
        #expect(outer.exists, "the existing cgroup is not cleave's to remove")
        #expect(!fx.events().contains("cgroup-removed"), "events: \(fx.events())")
        #expect(outer.ownerMark() == nil, "the run's claim is released")
        #expect(TestEnvironment.eventually { fx.records().isEmpty }, "records: \(fx.records())")
        // gc --force does not take it either: cleave did not make it.
        let gc = try fx.gc(["--force"])
        #expect(gc.status == 0 && gc.findings.isEmpty, "\(gc.findings) \(gc.stderr)")
        #expect(ProcFS.isAlive(sleeper) && outer.exists)

        kill(sleeper, SIGKILL)
        #expect(TestEnvironment.eventually { (try? outer.isPopulated()) == false })
        let again = try fx.run("outer", [], ["true"]).wait()
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(outer.exists, "still not removed after a run that ended at once")
    }

    @Test("--keep-cgroup is honoured at --teardown-timeout: the processes are killed, the cgroup stays")
    func keepCgroupAtTimeout() throws {
        let fx = GCFixture("keep")
        defer { fx.cleanup() }
        let result = try fx.run("w", ["--keep-cgroup", "--teardown-timeout", "300ms"],
                                ["sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 & echo $!"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let sleeper = try #require(Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(sleeper, SIGKILL) }
        let cgroup = try fx.cgroup("w")
        #expect(TestEnvironment.eventually(timeout: 15) { fx.events().contains("teardown-timeout") }, "events: \(fx.events())")
        #expect(TestEnvironment.eventually(timeout: 10) { GCFixture.watcherPid(for: cgroup, timeout: 0) == nil })
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(sleeper) }, "the run's own cgroup's processes are killed")
        #expect(cgroup.exists, "--keep-cgroup: the cgroup stays")
        #expect(!fx.events().contains("cgroup-removed"), "events: \(fx.events())")
        let gc = try fx.gc(["--force"])
        #expect(cgroup.exists, "gc leaves a kept cgroup: \(gc.findings)")
    }

    @Test("gc keeps a kept run's record while its cgroup is there, and removes it once someone removed the cgroup")
    func keptRecordGoesWithItsCgroup() throws {
        let fx = GCFixture("kept-record")
        defer { fx.cleanup() }
        let result = try fx.run("k", ["--keep-cgroup"], ["true"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let cgroup = try fx.cgroup("k")
        #expect(cgroup.exists)
        #expect(fx.records().count == 1, "records: \(fx.records())")
        let kept = try fx.gc()
        #expect(kept.status == 0 && kept.findings.isEmpty, "gc: \(kept.findings) \(kept.stderr)")
        #expect(fx.records().count == 1, "the record of a kept cgroup stays")
        // The cgroup is the user's now: they remove it; the record then describes nothing.
        #expect(rmdir(cgroup.path) == 0)
        let gone = try fx.gc()
        #expect(gone.status == 0, "gc: \(gone.stderr)")
        #expect(gone.findings.contains { $0.kind == "state" && $0.action == "removed" && $0.detail.contains("kept cgroup") },
                "findings: \(gone.findings)")
        #expect(fx.records().isEmpty, "records: \(fx.records())")
    }

    @Test("many runs given the same --cgroup at once: exactly one wins, the others fail with 125 and touch nothing")
    func concurrentRunsOneWins() throws {
        let fx = GCFixture("race")
        defer { fx.cleanup() }
        for round in 0..<3 {
            let name = "same\(round)"
            let runs = try (0..<8).map { _ in try fx.run(name, [], ["sh", "-c", "sleep 2; echo ran"]) }
            let results = try runs.map { try $0.wait(timeout: 60) }
            let winners = results.filter { $0.status == 0 }
            #expect(winners.count == 1, "round \(round): \(results.map { "\($0.status) \($0.stderr)" })")
            #expect(winners.first?.stdout == "ran\n")
            for loser in results where loser.status != 0 {
                #expect(loser.status == 125, "stderr: \(loser.stderr)")
                #expect(loser.stderr.contains("another cleave run") || loser.stderr.contains("already holds"), "stderr: \(loser.stderr)")
            }
            let cgroup = try fx.cgroup(name)
            #expect(TestEnvironment.eventually { !cgroup.exists }, "round \(round): the winner's cgroup is removed after its run")
        }
        #expect(TestEnvironment.eventually { fx.records().isEmpty }, "records: \(fx.records())")
    }

    @Test("many bundle runs given the same --id at once: exactly one wins, the others fail with 125")
    func concurrentBundlesOneWins() throws {
        let fx = GCFixture("idrace")
        defer { fx.cleanup() }
        let id = "cleave-test-same-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: "cleave/" + id)
        defer { try? cgroup.remove(killFirst: true, timeout: .seconds(10)) }
        let bundle = try TestBundle(TestBundle.config(args: ["sh", "-c", "sleep 2; echo ran"]))
        defer { bundle.remove() }
        let runs = try (0..<6).map { _ in
            try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory, "--id", id], environment: fx.environment)
        }
        let results = try runs.map { try $0.wait(timeout: 60) }
        let winners = results.filter { $0.status == 0 }
        #expect(winners.count == 1, "\(results.map { "\($0.status) \($0.stderr)" })")
        #expect(winners.first?.stdout == "ran\n")
        #expect(results.allSatisfy { $0.status == 0 || $0.status == 125 }, "\(results.map { "\($0.status) \($0.stderr)" })")
        #expect(TestEnvironment.eventually { !cgroup.exists }, "the winner's cgroup is removed after its run")
    }

    @Test("a --cgroup over PATH_MAX (2,500 levels) is refused before anything is created")
    func overLongPathRefused() throws {
        let fx = GCFixture("long")
        defer { fx.cleanup() }
        let deep = Array(repeating: "a", count: 2500).joined(separator: "/")
        let result = try fx.run(deep, [], ["true"]).wait()
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("PATH_MAX"), "stderr: \(result.stderr)")
        let parent = try Cgroup(mount: #require(TestEnvironment.mount), path: fx.parent)
        #expect(!parent.exists, "nothing created")
    }

    @Test("a failed mkdir -p (cgroup.max.depth) removes exactly the directories the run made, deepest first")
    func failedCreationUndone() throws {
        let fx = GCFixture("depth")
        defer { fx.cleanup() }
        let base = try fx.cgroup("base")
        try base.create()
        let existing = try fx.cgroup("base/x")
        try existing.create()
        try base.write("cgroup.max.depth", "3")
        let result = try fx.run("base/x/a/b/c/d", [], ["true"]).wait()
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(try existing.children().isEmpty, "every directory the run made is gone")
        #expect(existing.exists, "the one it did not make stays")
    }

    @Test("gc --force leaves an unmarked populated cgroup below its parent alone (a crun container's)")
    func gcLeavesUnmarked() throws {
        let fx = GCFixture("unmarked")
        defer { fx.cleanup() }
        let container = try fx.cgroup("example")
        try container.create()
        let stranger = try Self.stranger(in: container)
        let gc = try fx.gc(["--force"])
        #expect(gc.status == 0 && gc.findings.isEmpty, "\(gc.findings) \(gc.stderr)")
        #expect(ProcFS.isAlive(stranger.pid) && container.exists)
    }

    /// An orphan: a run's cgroup with a live workload whose cleave was SIGKILLed.
    func orphan(_ fx: GCFixture) throws -> (Cgroup, Int32) {
        let run = try fx.run("w", [], GCFixture.detached(["sleep", "300"]))
        let cgroup = try fx.cgroup("w")
        let workload = try #require(GCFixture.workloadAndHelper(in: cgroup, comm: "sleep")?.workload)
        kill(run.pid, SIGKILL)
        _ = try run.wait()
        return (cgroup, workload)
    }

    /// A copy of bash named `cleave`, run as `./cleave <script> ARGS` in a scratch directory
    /// holding <script>: its comm is "cleave" and its argv[1] what the forger chose.
    func forger(_ script: String, body: String, _ args: [String]) throws -> (ChildProcess, String) {
        var template = Array("/tmp/cleave-test-forge-XXXXXX".utf8CString)
        let dir = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        #expect(try ChildProcess(["/bin/cp", "/bin/bash", dir + "/cleave"]).wait().status == 0)
        try AtomicFile.write(Array(body.utf8), to: dir + "/" + script)
        let child = try ChildProcess(["/bin/sh", "-c", "cd \"$0\" && exec ./cleave \"$@\" </dev/null >/dev/null 2>&1", dir, script] + args)
        return (child, dir)
    }

    @Test("gc --force is not fooled by a process whose argv says __watch-teardown --cgroup <orphan>")
    func forgedWatcherDoesNotShield() throws {
        let fx = GCFixture("fwatch")
        defer { fx.cleanup() }
        let (cgroup, workload) = try orphan(fx)
        let (fake, dir) = try forger("__watch-teardown", body: "sleep 300 & wait\n", ["--cgroup", cgroup.path])
        defer { kill(fake.pid, SIGKILL); TestEnvironment.removeTree(dir) }
        #expect(TestEnvironment.eventually {
            FileIO.read("/proc/\(fake.pid)/cmdline")?.contains("__watch-teardown\0--cgroup") == true
        })
        let gc = try fx.gc(["--force"])
        #expect(gc.findings.contains { $0.path == cgroup.path && $0.action == "killed+removed" }, "\(gc.findings) \(gc.stderr)")
        #expect(!cgroup.exists)
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(workload) })
    }

    @Test("gc --force is not fooled by a process named cleave with argv[1] run parenting a process in the orphan")
    func forgedSupervisorDoesNotShield() throws {
        let fx = GCFixture("fsuper")
        defer { fx.cleanup() }
        let (cgroup, workload) = try orphan(fx)
        let (fake, dir) = try forger("run", body: "sh -c 'echo $$ > \"$0\"/cgroup.procs; exec sleep 300' \"$1\" & wait\n", [cgroup.path])
        defer { kill(fake.pid, SIGKILL); TestEnvironment.removeTree(dir) }
        #expect(TestEnvironment.eventually {
            ((try? cgroup.processes()) ?? []).contains { ProcFS.parentPid($0) == fake.pid && ProcFS.comm(fake.pid) == "cleave" }
        }, "the forger's child is in the orphan")
        let gc = try fx.gc(["--force"])
        #expect(gc.findings.contains { $0.path == cgroup.path && $0.action == "killed+removed" }, "\(gc.findings) \(gc.stderr)")
        #expect(!cgroup.exists)
        #expect(TestEnvironment.eventually { !ProcFS.isAlive(workload) })
    }

    @Test("a pipe given to cleave run sees EOF as soon as cleave exits, while its watcher still holds the teardown")
    func detachedWatcherKeepsNoDescriptor() throws {
        let fx = GCFixture("fds")
        defer { fx.cleanup() }
        var fds: [Int32] = [0, 0]
        #expect(cleave_pipe_cloexec(&fds) == 0)
        defer { close(fds[0]) }
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", fx.cgroupPath("w"), "--",
                                    TestEnvironment.cleave, "probe", "alloc", "8M"],
                                   environment: fx.environment, descriptors: [9: fds[1]])
        close(fds[1])
        let line = try #require(run.readLine())
        let workload = try #require(Int32(line.dropFirst("ready ".count)))
        let cgroup = try fx.cgroup("w")
        // Hold the teardown: a frozen helper cannot run; SIGKILL still ends the frozen workload.
        #expect(try GCFixture.freeze(cgroup))
        kill(workload, SIGKILL)
        #expect(try run.wait(timeout: 30).status == 137)
        #expect(GCFixture.watcherPid(for: cgroup) != nil, "the watcher holds the teardown")
        var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, 5000)
        var byte: UInt8 = 0
        #expect(ready == 1 && read(fds[0], &byte, 1) == 0, "EOF on the pipe once cleave has exited")
        try cgroup.freeze(false)
        #expect(TestEnvironment.eventually(timeout: 20) { !cgroup.exists })
    }

    @Test("a pipe given to cleave hook poststart sees EOF as soon as the hook exits, while its follower still runs")
    func hookFollowerKeepsNoDescriptor() throws {
        let path = TestEnvironment.uniqueCgroupPath("hookfd")
        defer { TestEnvironment.removeCgroup(path) }
        let bundle = try TestBundle("{}")
        defer { bundle.remove() }
        let dir = bundle.directory
        let workload = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "sh", "-c", "echo $$; exec sleep 60"])
        let pid = try #require(workload.readLine().flatMap { Int32($0) })
        var fds: [Int32] = [0, 0]
        #expect(cleave_pipe_cloexec(&fds) == 0)
        defer { close(fds[0]) }
        let id = "hookfd-\(getpid())"
        let state = #"{"ociVersion": "1.0.2", "id": "\#(id)", "status": "running", "bundle": "/tmp", "pid": \#(pid)}"#
        let hook = try ChildProcess([TestEnvironment.cleave, "hook"], environment: ["CLEAVE_HOOK_DIR": dir, "CLEAVE_EVENT_LOG": dir + "/events.log"],
                                    stdin: state, descriptors: [9: fds[1]])
        close(fds[1])
        let result = try hook.wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        var follower: Int32?
        #expect(TestEnvironment.eventually {
            follower = ProcFS.allPids().first { FileIO.read("/proc/\($0)/cmdline")?.contains("__follow-teardown") == true
                && FileIO.read("/proc/\($0)/cmdline")?.contains("\0\(pid)\0") == true && ProcFS.isAlive($0) }
            return follower != nil
        }, "the follower waits for the container's exit")
        var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, 5000)
        var byte: UInt8 = 0
        #expect(ready == 1 && read(fds[0], &byte, 1) == 0, "EOF on the pipe once the hook has exited")
        kill(pid, SIGTERM)
        _ = try workload.wait()
        if let follower { #expect(TestEnvironment.eventually(timeout: 20) { !ProcFS.isAlive(follower) }) }
    }
}
