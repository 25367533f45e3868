import ArgumentParser
import CleaveAgent
import Dispatch
import Synchronization
import CleaveSystem

/// `cleave agent`, in an executable of its own (`cleave agent` execs it) so that
/// Hummingbird, NIO and Foundation never load into `cleave run`. The agent's async
/// world runs on the concurrency pool while the main thread waits.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleave agent",
        abstract: "Node agent: export teardown and cgroup accounting metrics for Prometheus.",
        discussion: """
        Watches cgroup subtrees (default: the whole cgroup2 hierarchy) with inotify, recognises cgroups \
        in teardown (populated, only cleanup/* helpers left), and serves /metrics (Prometheus text), \
        /v1/teardowns (JSON), /healthz and /readyz. SIGTERM or SIGINT stops it cleanly (exit 0).
        """
    )

    @Option(help: "Address to serve HTTP on: HOST:PORT, [IPv6]:PORT, or :PORT for every address (port 0 picks a free one).")
    var listen: String = "127.0.0.1:9464"
    @Option(name: .customLong("root"), help: "cgroup subtree to watch, below the cgroup2 mount or as an absolute path (repeatable; default: all).")
    var roots: [String] = []
    @Option(help: "Rescan the watched subtrees this often, a safety net for missed events (e.g. 10s, 1m).")
    var rescan: String = "10s"
    @Option(name: .customLong("log-format"), help: "text or json (stderr).")
    var logFormat: String = "text"
    @Option(name: .customLong("teardown-timeout"), help: "Count a teardown in cleave_teardown_timeouts_total once it runs longer (e.g. 5m).")
    var teardownTimeout: String = "5m"

    @Option(name: .customLong("cgroup-mount"), help: "cgroup2 mount to watch (default: found in /proc/self/mountinfo); in a container, the host's, e.g. /host/sys/fs/cgroup.")
    var cgroupMount: String?
    @Option(name: .customLong("proc-mount"), help: "procfs showing the processes of that hierarchy (default /proc; with hostPID, the host's).")
    var procMount: String = "/proc"

    func run() throws {
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let command = self
        Task.detached {
            let result: Result<Void, any Error>
            do { try await command.runAgent(); result = .success(()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        try outcome.withLock { $0 }?.get()
    }

    func runAgent() async throws {
        var options = AgentOptions()
        options.listen = try ListenAddress.parse(listen)
        options.roots = roots
        options.cgroupMount = cgroupMount
        options.procRoot = procMount
        options.rescanInterval = try DurationParser.parse(rescan, option: "--rescan")
        guard options.rescanInterval >= .milliseconds(100) else { throw CleaveError.message("--rescan: '\(rescan)' is too short (at least 100ms)") }
        options.teardownTimeout = try DurationParser.parse(teardownTimeout, option: "--teardown-timeout")
        guard let format = LogFormat(rawValue: logFormat) else {
            throw CleaveError.message("--log-format: '\(logFormat)' is not one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        options.logFormat = format
        try await Agent.run(options, logger: Agent.makeLogger(format: format))
    }
}
