import CleaveAgent
import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The agent watches a test subtree while `cleave run --teardown async` ends
/// `cleave probe alloc 256M`; the helper is held (stopped with SIGSTOP, in the
/// workload's own cgroup) across the workload's end, then released. Not moved
/// into a frozen child cgroup: an agent that has not yet seen the workload then
/// takes that child, which never held a workload, for the teardown until it
/// evaluates the parent (seen under load, and once in the VM tier).
enum TeardownScenario {
    static let size: Double = 256 * 1024 * 1024

    static func run(expectMemory: Bool) throws {
        let mount = try #require(TestEnvironment.mount)
        let root = try TestEnvironment.makeTestCgroup("teardown")
        defer { TestEnvironment.removeCgroupTree(root) }
        // A long rescan: events and pidfds must do the work.
        let agent = try AgentProcess(["--root", root.relativePath, "--rescan", "60s"])
        defer { _ = agent.terminate() }

        let workload = try Cgroup(mount: mount, path: root.relativePath + "/w")
        let label = "/" + workload.relativePath
        // A kept cgroup keeps its run record: in a directory of this test's own, not /run/cleave.
        let stateDir = "/tmp/cleave-test-agent-teardown-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { TestEnvironment.removeTree(stateDir) }
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", workload.relativePath, "--keep-cgroup",
                                    "--teardown", "async", "--", TestEnvironment.cleave, "probe", "alloc", "256M"],
                                   environment: ["CLEAVE_STATE_DIR": stateDir], output: .files)
        var probe: Int32?
        _ = TestEnvironment.eventually(timeout: 60) {
            probe = run.stdout.split(separator: "\n").first { $0.hasPrefix("ready ") }.flatMap { Int32($0.dropFirst(6)) }
            return probe != nil || run.poll() != nil
        }
        let workloadPid = try #require(probe, "the probe did not become ready: \(run.stderr)")
        var helpers = [Int32]()
        #expect(TestEnvironment.eventually {
            helpers = TeardownHelpers.helpers(among: (try? workload.processes()) ?? [])
            return !helpers.isEmpty
        })
        try #require(!helpers.isEmpty, "no cleanup/* helper in \(workload.path)")

        var families = try agent.metrics()
        #expect(families.value("cleave_teardowns_in_progress") == 0, "a running workload is not a teardown")
        if expectMemory {
            // The agent learns of the new cgroup through inotify: its series appears when it has.
            var ws: Double?
            _ = try TestEnvironment.eventually {
                ws = try agent.metrics().value("cleave_cgroup_memory_working_set_bytes", ["cgroup": label])
                return (ws ?? 0) >= 0.9 * size
            }
            let bytes = try #require(ws, "no working set series for \(label)")
            #expect(bytes >= 0.9 * size, "working set \(bytes)")
        }

        // Hold the helper, end the workload.
        for pid in helpers { #expect(kill(pid, SIGSTOP) == 0) }
        #expect(TestEnvironment.eventually { helpers.allSatisfy { ProcFS.status($0, field: "State")?.hasPrefix("T") == true } })
        #expect(kill(workloadPid, SIGKILL) == 0)
        #expect(run.exitStatus(timeout: 60) == 137, "cleave run: \(run.stderr)")

        #expect(try TestEnvironment.eventually {
            families = try agent.metrics()
            return families.value("cleave_teardowns_in_progress") == 1
        }, "scrape: \(families.map(\.name))")
        // The raw scrape of this moment, for the README's excerpt (hack/test.sh prints it).
        let raw = try agent.get("/metrics").body
        print("agent scrape during the teardown:\n" + raw.split(separator: "\n").filter { line in
            !line.contains("_bucket") && (line.contains("teardown") || line.contains("pending_release") || line.contains(label + "\""))
        }.joined(separator: "\n"))
        // Every family at once (teardown memory, working set, OOM kills where memory exists):
        // the exposition still passes promtool's lint, and each name is one the agent declares.
        let lint = try ChildProcess.run([MonitoringTests.promtool, "check", "metrics"], stdin: raw)
        #expect(lint.status == 0, "promtool check metrics: \(lint.stdout)\(lint.stderr)")
        let undeclared = MonitoringTests.sampleNames(raw).subtracting(MonitoringTests.declaredNames())
        #expect(undeclared.isEmpty, "exported but not declared: \(undeclared.sorted())")
        let memory = families.value("cleave_teardown_memory_bytes", ["cgroup": label])
        let pending = families.value("cleave_node_memory_pending_release_bytes")
        if expectMemory {
            let bytes = try #require(memory, "no cleave_teardown_memory_bytes for \(label)")
            #expect(bytes >= 0.9 * size && bytes <= 1.25 * size, "teardown memory \(bytes)")
            #expect(pending == bytes)
        } else {
            #expect(memory == nil, "memory.current does not exist here: the series must be absent")
            #expect(pending == nil, "the pending sum is unknown here: it must be absent, not \(pending ?? 0)")
        }
        let during = try JSONDecoder().decode(TeardownsDocument.self, from: Data(try agent.get("/v1/teardowns").body.utf8))
        #expect(during.inProgress.map(\.cgroup) == [label])
        #expect(during.inProgress.first?.helpers == helpers.sorted())

        // Release: the helper frees the memory and exits, the cgroup empties.
        for pid in helpers { #expect(kill(pid, SIGCONT) == 0) }
        #expect(try TestEnvironment.eventually(timeout: 60) {
            families = try agent.metrics()
            return families.value("cleave_teardowns_in_progress") == 0
                && families.value("cleave_teardowns", sample: "cleave_teardowns_total") == 1
        }, "scrape: \(families.filter { $0.name.hasPrefix("cleave_teardown") })")
        #expect(families.value("cleave_teardown_duration_seconds", sample: "cleave_teardown_duration_seconds_count") == 1)
        #expect(families.value("cleave_teardown_memory_bytes", ["cgroup": label]) == nil)
        #expect(families.value("cleave_node_memory_pending_release_bytes") == 0)
        let after = try JSONDecoder().decode(TeardownsDocument.self, from: Data(try agent.get("/v1/teardowns").body.utf8))
        #expect(after.inProgress.isEmpty)
        let record = try #require(after.recent.last)
        #expect(record.cgroup == label && record.state == .completed && (record.durationSeconds ?? 0) > 0)
        if expectMemory { #expect((record.memoryAtBeginBytes.map { Double($0) } ?? 0) >= 0.9 * size) }
        #expect(agent.terminate() == 0)
    }
}
