import ArgumentParser
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

/// `cleave agent ...` execs `cleave-agent` from cleave's own directory: the agent's HTTP
/// stack (Hummingbird, NIO, Foundation) stays out of cleave's start-up, which every
/// `cleave run` pays.
struct AgentLauncherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Node agent: export teardown and cgroup accounting metrics for Prometheus (cleave agent --help).")

    @Argument(parsing: .allUnrecognized, help: "The agent's options: --listen, --root, --rescan, --log-format, ...")
    var arguments: [String] = []

    static let executableName = "cleave-agent"

    func run() throws { try Self.exec(arguments) }

    /// main.swift calls this before parsing, so `cleave agent --help` reaches the agent's own help.
    static func exec(_ arguments: [String]) throws -> Never {
        guard let directory = Executable.directory() else { throw CleaveError.message("cannot find cleave's own directory for \(executableName)") }
        let path = directory + "/" + executableName
        let argv = CStringArray(["cleave agent"] + arguments)
        execv(path, argv.pointer)
        throw CleaveError.cannotExecute("cannot execute \(path): \(SystemError.reason(errno)) (it is built and installed next to cleave)", errno: errno)
    }
}
