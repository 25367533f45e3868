import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The monitoring files shipped with the agent, tested like code: the agent's exposition
/// passes `promtool check metrics`; manifests/prometheus's rules pass `promtool check rules`
/// and their unit tests (`promtool test rules`); every PromQL expression of the rules and of
/// manifests/grafana's dashboard parses and names only metrics the agent exports.
/// promtool comes from Debian's prometheus package and promql-parser from PyPI (hack/setup.sh).
@Suite("monitoring: exposition, Prometheus rules, Grafana dashboard", .serialized)
struct MonitoringTests {
    /// hack/setup.sh extracts promtool there from Debian's prometheus package.
    static let promtool = (getenv("CLEAVE_TOOLS_DIR").map { String(cString: $0) } ?? "/var/tmp/cleave-tools") + "/promtool"
    static var root: String { TestEnvironment.repositoryRoot }
    static var rules: String { root + "/manifests/prometheus/cleave-rules.yaml" }
    static var rulesTests: String { root + "/manifests/prometheus/cleave-rules.test.yaml" }
    static var dashboard: String { root + "/manifests/grafana/cleave-dashboard.json" }

    /// Sample names the agent's code declares (`name: "cleave_…"`), histograms with their
    /// _bucket/_sum/_count series: what it can export, whether or not this host shows it.
    static func declaredNames() -> Set<String> {
        var names = Set<String>()
        let dir = root + "/Sources/CleaveAgent"
        guard let d = opendir(dir) else { return names }
        defer { closedir(d) }
        while let entry = readdir(d) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard file.hasSuffix(".swift"), let text = FileIO.read(dir + "/" + file, limit: 1 << 22) else { continue }
            var rest = Substring(text)
            while let r = rest.range(of: "name: \"cleave_") {
                let tail = rest[rest.index(r.upperBound, offsetBy: -7)...]
                let name = String(tail.prefix { $0 == "_" || $0.isLetter || $0.isNumber })
                names.insert(name)
                let start = text.index(r.lowerBound, offsetBy: -80, limitedBy: text.startIndex) ?? text.startIndex
                let before: Substring = text[start..<r.lowerBound]
                if before.contains("Histogram(") {
                    names.formUnion([name + "_bucket", name + "_sum", name + "_count"])
                }
                rest = rest[r.upperBound...]
            }
        }
        return names
    }

    /// Sample names in an exposition (the first token of each sample line).
    static func sampleNames(_ exposition: String) -> Set<String> {
        Set(exposition.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
            $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
        })
    }

    @Test("the agent's /metrics passes promtool check metrics and exports only declared names; a bad exposition fails it")
    func exposition() throws {
        let cgroup = try TestEnvironment.makeTestCgroup("promtool")
        defer { TestEnvironment.removeCgroupTree(cgroup) }
        let agent = try AgentProcess(["--root", cgroup.relativePath])
        let body = try agent.get("/metrics").body
        _ = agent.terminate()
        let check = try ChildProcess.run([Self.promtool, "check", "metrics"], stdin: body)
        #expect(check.status == 0, "promtool check metrics: \(check.stdout)\(check.stderr)")
        let seen = Self.sampleNames(body)
        #expect(seen.contains("cleave_node_memory_total_bytes") && seen.contains("cleave_node_memory_available_bytes"), "\(seen.sorted())")
        let undeclared = seen.subtracting(Self.declaredNames())
        #expect(undeclared.isEmpty, "exported but not found in Sources/CleaveAgent: \(undeclared.sorted())")
        // The same check refuses what Prometheus's conventions refuse.
        let bad = try ChildProcess.run([Self.promtool, "check", "metrics"], stdin: "# TYPE cleave_things counter\ncleave_things 1\n")
        #expect(bad.status != 0)
    }

    @Test("the rules pass promtool check rules and their unit tests")
    func rules() throws {
        let check = try ChildProcess.run([Self.promtool, "check", "rules", Self.rules])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let test = try ChildProcess.run([Self.promtool, "test", "rules", Self.rulesTests])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("SUCCESS"), "\(test.stdout)")
    }

    @Test("every dashboard and rule expression parses and names only metrics the agent exports; a wrong name is caught")
    func expressions() throws {
        let names = "/tmp/cleave-test-agent-names-\(getpid())"
        defer { unlink(names) }
        try AtomicFile.write(Array((Self.declaredNames().sorted().joined(separator: "\n") + "\n").utf8), to: names)
        let script = Self.root + "/hack/monitoring/check_promql.py"
        let run = try ChildProcess.run([TestEnvironment.python, script, Self.dashboard, Self.rules, names])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains(" 0 problems"), "\(run.stdout)")

        // A dashboard naming a metric the agent does not export fails the same check.
        let broken = "/tmp/cleave-test-agent-dashboard-\(getpid()).json"
        defer { unlink(broken) }
        let text = try #require(FileIO.read(Self.dashboard, limit: 1 << 22))
        try AtomicFile.write(Array((text.replacing("cleave_dying_cgroups", with: "cleave_dead_cgroups")).utf8), to: broken)
        let refused = try ChildProcess.run([TestEnvironment.python, script, broken, Self.rules, names])
        #expect(refused.status == 1 && refused.stdout.contains("cleave_dead_cgroups is not a metric the agent exports"), "\(refused.stdout)\(refused.stderr)")
    }
}
