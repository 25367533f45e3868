import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

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
        let result = try ChildProcess.run([TestEnvironment.cleave, "agent", "--listen", "127.0.0.1:0"] + args, timeout: 30)
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("cleave: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(args[0]) && result.stderr.contains(named), "stderr: \(result.stderr)")
    }

    @Test("a port already in use is a clear error, exit 125")
    func portInUse() throws {
        let first = try AgentProcess(["--root", "/"])
        defer { _ = first.terminate() }
        let result = try ChildProcess.run([TestEnvironment.cleave, "agent", "--listen", "127.0.0.1:\(first.port)"], timeout: 30)
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--listen 127.0.0.1:\(first.port)"), "stderr: \(result.stderr)")
    }

    /// /metrics names every cgroup on the host: without --listen the agent must not be
    /// reachable from the network (manifests/kubernetes asks for :9464 explicitly).
    @Test("with no --listen the agent serves on 127.0.0.1:9464 only")
    func defaultListenIsLoopback() throws {
        let help = try ChildProcess.run([TestEnvironment.cleave, "agent", "--help"], timeout: 30)
        #expect(help.status == 0, "stderr: \(help.stderr)")
        #expect(help.stdout.contains("(default: 127.0.0.1:9464)"), "help: \(help.stdout)")

        // Either it listens there, or (another agent holds the port) says which address it
        // could not take: both name the default address.
        let agent = try ChildProcess([TestEnvironment.cleave, "agent", "--root", "/"], output: .files)
        let named = ["listening on http://127.0.0.1:9464", "--listen 127.0.0.1:9464"]
        let deadline = Clock.monotonicNanoseconds() + 30_000_000_000
        var log = ""
        while Clock.monotonicNanoseconds() < deadline {
            let exited = agent.poll() != nil
            log = agent.stderr
            if exited || named.contains(where: log.contains) { break }
            usleep(20_000)
        }
        kill(agent.pid, SIGTERM)
        _ = agent.exitStatus(timeout: 20)
        #expect(named.contains(where: log.contains), "stderr: \(log)")
    }
}
