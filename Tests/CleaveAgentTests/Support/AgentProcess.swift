import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// `cleave agent --listen 127.0.0.1:0 ARGS` started for one test; the port is
/// read from its "listening on" log line.
final class AgentProcess {
    let process: ChildProcess
    let port: Int

    init(_ args: [String]) throws {
        let started = try ChildProcess([TestEnvironment.cleave, "agent", "--listen", "127.0.0.1:0"] + args, output: .files)
        process = started
        var found: Int?
        _ = TestEnvironment.eventually(timeout: 30) {
            found = Self.port(in: started.stderr)
            return found != nil || started.poll() != nil
        }
        guard let found else {
            throw CleaveError.message("the agent did not start listening (status \(process.poll().map(String.init) ?? "running")): \(process.stderr)")
        }
        port = found
        // Ready: the initial scan is done and the server listens.
        // 60 s: the initial scan of a whole hierarchy took over 30 s on a loaded CI machine.
        guard TestEnvironment.eventually(timeout: 60, { (try? HTTPClient.get(port: found, path: "/readyz").status) == 200 }) else {
            throw CleaveError.message("the agent did not become ready: \(started.stderr)")
        }
    }

    static func port(in log: String) -> Int? {
        guard let range = log.range(of: "listening on http://127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    var pid: pid_t { process.pid }
    var log: String { process.stderr }
    var isRunning: Bool { process.poll() == nil }
    var descriptorCount: Int? { ProcFS.openDescriptorCount(pid) }

    func get(_ path: String) throws -> HTTPResult { try HTTPClient.get(port: port, path: path) }

    func metrics() throws -> [MetricFamily] {
        let result = try get("/metrics")
        guard result.status == 200 else { throw CleaveError.message("/metrics answered \(result.status)") }
        return try PrometheusText.parse(result.body)
    }

    /// SIGTERM, then the exit status (nil if it did not exit within 20 s).
    func terminate() -> Int32? {
        kill(pid, SIGTERM)
        return process.exitStatus(timeout: 20)
    }
}
