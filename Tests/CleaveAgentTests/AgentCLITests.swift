import Testing

/// Bad input ends with "cleave: <message naming the input>" and status 125, not a trap.
@Suite("cleave agent: bad command lines")
struct AgentCLITests {
    @Test("each bad value is refused by name", arguments: [
        (["--listen", "nowhere"], "'nowhere'"),
        (["--listen", "127.0.0.1:65536"], "'127.0.0.1:65536'"),
        (["--root", "cleave-test-agent-absent-cgroup"], "'cleave-test-agent-absent-cgroup'"),
        (["--log-format", "yaml"], "'yaml'"),
        (["--rescan", "often"], "'often'"),
        (["--cgroup-mount", "/tmp"], "'/tmp'"),
    ])
    func refused(_ args: [String], _ named: String) throws {
        let result = try Spawned.run([AgentTestEnvironment.cleave, "agent", "--listen", "127.0.0.1:0"] + args, timeout: 30)
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("cleave: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(args[0]) && result.stderr.contains(named), "stderr: \(result.stderr)")
    }

    @Test("a port already in use is a clear error, exit 125")
    func portInUse() throws {
        let first = try AgentProcess(["--root", "/"])
        defer { _ = first.terminate() }
        let result = try Spawned.run([AgentTestEnvironment.cleave, "agent", "--listen", "127.0.0.1:\(first.port)"], timeout: 30)
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--listen 127.0.0.1:\(first.port)"), "stderr: \(result.stderr)")
    }
}
