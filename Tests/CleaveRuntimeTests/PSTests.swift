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

/// `cleave ps` lists every run that has a record, whatever its cgroup's parent, and the
/// record-less cgroups below the parent. Each test has its own record directory
/// (CLEAVE_STATE_DIR), so other runs on the machine do not show up in its listing.
@Suite("cleave ps (host tier)", .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct PSTests {
    static func ps(_ flags: [String], stateDirectory: String) throws -> [ManagedCgroup] {
        let result = try ChildProcess([TestEnvironment.cleave, "ps", "--json"] + flags,
                                      environment: ["CLEAVE_STATE_DIR": stateDirectory]).wait()
        guard result.status == 0 else { throw CleaveError.message("cleave ps exited \(result.status): \(result.stderr)") }
        return try JSONDecoder().decode(PSReport.self, from: Data(result.stdout.utf8)).cgroups
    }

    @Test("a run under --cgroup rw/... is listed without --parent, with its run id; a record-less cgroup below --parent too")
    func everyRunIsListed() throws {
        let fx = GCFixture("ps")
        defer { fx.cleanup() }
        // Not below cleave's default parent: `cleave ps` used to list nothing for it.
        let run = try fx.run("rw/w", ["--name", "psrun"], GCFixture.detached(["sleep", "300"]))
        defer { kill(run.pid, SIGTERM); _ = try? run.wait() }
        let cgroup = try fx.cgroup("rw/w")
        _ = try #require(GCFixture.workloadAndHelper(in: cgroup, comm: "sleep")?.workload, "the run never started")
        // A cgroup below the parent that no record names (an orphan, or a run from before records).
        let orphan = try fx.cgroup("orphan")
        try orphan.create()

        let all = try Self.ps([], stateDirectory: fx.stateDirectory)
        let entry = try #require(all.first { $0.path == cgroup.path }, "ps without --parent: \(all.map(\.path))")
        let id = try #require(entry.run)
        #expect(entry.record == RunState.recordPath(id: id, supervisorPid: run.pid, directory: fx.stateDirectory))
        #expect(entry.state == .running)
        #expect(entry.runStatus == "running")
        #expect(entry.supervisorPid == run.pid)
        // Below cleave-test/, not cleave/: record-less, so not listed without --parent.
        #expect(!all.contains { $0.path == orphan.path })

        let below = try Self.ps(["--parent", fx.parent], stateDirectory: fx.stateDirectory)
        #expect(Set(below.map(\.path)) == [cgroup.path, orphan.path, try fx.cgroup("rw").path], "\(below.map(\.path))")
        #expect(below.first { $0.path == orphan.path }?.run == nil)
        #expect(below.first { $0.path == orphan.path }?.state == .empty)
        #expect(below.first { $0.path == cgroup.path }?.run == id)
        // --parent elsewhere: the run is not below it.
        let elsewhere = try Self.ps(["--parent", fx.parent + "/orphan"], stateDirectory: fx.stateDirectory)
        #expect(elsewhere.isEmpty, "\(elsewhere.map(\.path))")

        // Once the run is over its record goes, and so does its line.
        kill(run.pid, SIGTERM)
        #expect(try run.wait().status == 143)
        #expect(TestEnvironment.eventually(timeout: 20) {
            ((try? Self.ps([], stateDirectory: fx.stateDirectory)) ?? []).allSatisfy { $0.path != cgroup.path }
        })
        try? orphan.remove()
    }

    @Test("a record whose cgroup does not exist is listed as such; the table has a RUN column")
    func recordWithoutCgroup() throws {
        let fx = GCFixture("psrec")
        defer { fx.cleanup() }
        let mount = try #require(TestEnvironment.mount)
        let path = try Cgroup(mount: mount, path: fx.cgroupPath("never-made")).path
        // Records as `cleave run` writes them (RunState's fields), naming pid 1 as the supervisor.
        func record(_ id: String, cgroup: String) throws {
            let json = #"{"id":"\#(id)","name":"x","cgroup":"\#(cgroup)","helperPids":[],"teardown":"async","status":"running","createdAt":1,"supervisorPid":1}"#
            try AtomicFile.write(Array(json.utf8), to: RunState.recordPath(id: id, supervisorPid: 1, directory: fx.stateDirectory))
        }
        try record("ps-stale", cgroup: path)
        // A record naming something outside the cgroup2 mount is not read.
        try record("ps-outside", cgroup: "/etc")

        let listed = try Self.ps([], stateDirectory: fx.stateDirectory)
        let entry = try #require(listed.first { $0.run == "ps-stale" })
        #expect(entry.path == path)
        #expect(entry.state == .missing)
        #expect(!listed.contains { $0.run == "ps-outside" })

        let table = try ChildProcess([TestEnvironment.cleave, "ps"], environment: ["CLEAVE_STATE_DIR": fx.stateDirectory]).wait()
        #expect(table.status == 0)
        let line = table.stdout.split(separator: "\n").first { $0.contains(path) }
        #expect(line?.contains("ps-stale") == true && line?.contains("no cgroup") == true, "\(table.stdout)")
        #expect(table.stdout.hasPrefix("CGROUP"))
    }
}
