import CleaveAgent
import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The agent against this machine's real cgroup2 hierarchy.
@Suite("cleave agent on the host hierarchy", .enabled(if: TestEnvironment.hasCgroup2, "needs a cgroup2 hierarchy"))
struct AgentHostTests {
    @Test("serves /metrics, /v1/teardowns, /healthz and /readyz, logs JSON, and SIGTERM exits 0")
    func servesAndStops() throws {
        let root = try TestEnvironment.makeTestCgroup("serve")
        defer { TestEnvironment.removeCgroupTree(root) }
        let agent = try AgentProcess(["--root", root.relativePath, "--log-format", "json"])
        #expect(try agent.get("/readyz").status == 200)
        #expect(try agent.get("/healthz").status == 200)
        #expect(try agent.get("/nothing-here").status == 404)

        let metrics = try agent.get("/metrics")
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let families = try PrometheusText.parse(metrics.body)
        // prometheus_client names a counter family without its _total suffix.
        let expected: [(String, String)] = [
            ("cleave_teardowns_in_progress", "gauge"), ("cleave_node_memory_pending_release_bytes", "gauge"),
            ("cleave_teardown_duration_seconds", "histogram"), ("cleave_teardowns", "counter"),
            ("cleave_teardown_timeouts", "counter"), ("cleave_dying_cgroups", "gauge"),
        ]
        for (name, type) in expected {
            let family = families[family: name]
            #expect(family?.type == type, "\(name): \(String(describing: family))")
            #expect(family?.help.isEmpty == false, "\(name) has no HELP")
        }
        #expect(families.value("cleave_teardowns_in_progress") == 0)
        #expect(families.value("cleave_node_memory_pending_release_bytes") == 0)   // nothing pending: a true zero
        #expect(families.value("cleave_dying_cgroups", ["root": "/" + root.relativePath]) != nil)
        // cpu.stat is a core file: every watched cgroup has a usage series.
        #expect(families.value("cleave_cgroup_cpu_usage_seconds", sample: "cleave_cgroup_cpu_usage_seconds_total",
                               ["cgroup": "/" + root.relativePath]) != nil)
        if !TestEnvironment.hasMemoryController {
            // No memory controller: the working set is absent, not 0.
            #expect(families[family: "cleave_cgroup_memory_working_set_bytes"] == nil)
            #expect(families[family: "cleave_cgroup_oom_kills"] == nil)
        }

        let teardowns = try agent.get("/v1/teardowns")
        #expect(teardowns.headers["content-type"] == "application/json")
        let document = try JSONDecoder().decode(TeardownsDocument.self, from: Data(teardowns.body.utf8))
        #expect(document.inProgress.isEmpty && document.teardownsTotal == 0)

        #expect(agent.terminate() == 0, "log: \(agent.log)")
        let lines = agent.log.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try? JSONDecoder().decode([String: String].self, from: Data(line.utf8))
            #expect(object?["level"] != nil && object?["msg"] != nil, "not a JSON log line: \(line)")
        }
        #expect(agent.log.contains("\"msg\":\"stopped\""))
    }

    @Test("without --root it watches the whole hierarchy")
    func wholeHierarchy() throws {
        let agent = try AgentProcess([])
        defer { _ = agent.terminate() }
        let families = try agent.metrics()
        let cgroups = Set(families[family: "cleave_cgroup_cpu_usage_seconds"]?.samples.compactMap { $0.labels["cgroup"] } ?? [])
        #expect(cgroups.contains("/"))
        #expect(families.value("cleave_dying_cgroups", ["root": "/"]) != nil)
    }

    @Test("hundreds of cgroups a second created and removed: the agent keeps running, no stale series, no leaked descriptors")
    func churn() throws {
        let mount = try #require(TestEnvironment.mount)
        let root = try TestEnvironment.makeTestCgroup("churn")
        defer { TestEnvironment.removeCgroupTree(root) }
        let agent = try AgentProcess(["--root", root.relativePath, "--rescan", "2s"])
        defer { _ = agent.terminate() }
        _ = try agent.get("/metrics")
        usleep(300_000)
        let descriptorsBefore = try #require(agent.descriptorCount)

        // 20 cgroups that stay, and for 3 seconds a churn of nested ones.
        let stay = try (0..<20).map { i -> Cgroup in
            let c = try Cgroup(mount: mount, path: "\(root.relativePath)/stay-\(i)")
            try c.create()
            return c
        }
        let start = Clock.monotonicNanoseconds()
        var operations = 0
        var i = 0
        while Clock.monotonicNanoseconds() - start < 3_000_000_000 {
            let parent = "\(root.path)/churn-\(i)"
            #expect(mkdir(parent, 0o755) == 0)
            #expect(mkdir(parent + "/inner", 0o755) == 0)
            if i % 50 == 0 { _ = try? agent.get("/metrics") }   // scrapes during the churn
            #expect(rmdir(parent + "/inner") == 0)
            #expect(rmdir(parent) == 0)
            operations += 4
            i += 1
        }
        let rate = Double(operations) / (Double(Clock.monotonicNanoseconds() - start) / 1e9)
        #expect(rate > 200, "only \(rate) cgroup operations a second")
        #expect(agent.isRunning, "log: \(agent.log)")
        #expect(try agent.get("/healthz").status == 200)

        let expected = Set(["/" + root.relativePath] + stay.map { "/" + $0.relativePath })
        var seen = Set<String>()
        let settled = try TestEnvironment.eventually(timeout: 10) {
            let families = try agent.metrics()
            seen = Set(families[family: "cleave_cgroup_cpu_usage_seconds"]?.samples.compactMap { $0.labels["cgroup"] } ?? [])
            return seen == expected
        }
        #expect(settled, "series for \(seen.subtracting(expected).sorted().prefix(5)) stale, \(expected.subtracting(seen).sorted().prefix(5)) missing")
        for c in stay { try c.remove() }
        #expect(try TestEnvironment.eventually {
            Set(try agent.metrics()[family: "cleave_cgroup_cpu_usage_seconds"]?.samples.compactMap { $0.labels["cgroup"] } ?? [])
                == ["/" + root.relativePath]
        })
        // The last scrape's connection closes asynchronously: wait for the count to come back.
        #expect(TestEnvironment.eventually { (agent.descriptorCount ?? Int.max) <= descriptorsBefore },
                "descriptors before \(descriptorsBefore), after \(agent.descriptorCount ?? -1)")
        #expect(agent.terminate() == 0)
    }

    @Test("a held teardown without the memory controller: counted, its memory absent rather than 0",
          .enabled(if: !TestEnvironment.hasMemoryController, "the VM tier runs this with the memory controller"))
    func teardownWithoutMemoryController() throws {
        try TeardownScenario.run(expectMemory: false)
    }
}
