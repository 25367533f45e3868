import ArgumentParser
import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new cgroup, with asynchronous teardown.",
        discussion: """
        Exit status: the command's, 128+N when signal N ended it, 125 when cleave itself failed, \
        126 when the command cannot be executed, 127 when it is not found.
        """
    )

    @Option(help: "OCI bundle directory: run its config.json's process with its linux.resources and hooks.")
    var bundle: String?
    @Option(help: "Container id for --bundle (default: random); names the cgroup cleave/<id> and the hooks' state.")
    var id: String?

    @OptionGroup var options: RunOptions

    /// `.captureForPassthrough` takes everything from the first word it does not know, options
    /// included: without this check `cleave run --help` would try to execute "--help" and a
    /// misspelt option would become the command. A command that starts with "-" goes after `--`.
    func validate() throws {
        guard let first = options.arguments.first, first != "--", first.hasPrefix("-") else { return }
        if first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
        throw ValidationError("unknown option '\(first)' (a command that starts with '-' goes after --)")
    }

    func run() throws {
        guard let bundle else {
            if id != nil { throw CleaveError.message("--id names a bundle's container: use it with --bundle") }
            throw ExitCode(try Self.run(options.flags))
        }
        var request = try bundleRequest(bundle, options: options)
        if let cgroup = options.cgroup { request.cgroupPath = cgroup }
        try options.flags.applySupervision(to: &request, teardown: options.teardown)
        try Self.waitForMemory(request)
        throw ExitCode(try Runner(request: request, logger: CLILogging.logger()).run())
    }

    /// Runs the workload; returns cleave's exit code. Shared with main's fast path.
    static func run(_ flags: RunFlags) throws -> Int32 {
        let request = try flags.request()
        try waitForMemory(request)
        return try Runner(request: request, logger: CLILogging.logger()).run()
    }

    /// --wait-memory: before anything is created, and before the supervisor blocks the
    /// forwarded signals, so Ctrl-C ends the wait as it ends any command.
    static func waitForMemory(_ request: RunRequest) throws {
        guard request.memoryWait != nil else { return }
        _ = try MemoryWait(request: request, mount: CgroupMount.discover()).wait()
    }

    /// The bundle is the whole description: flags that would contradict it are refused.
    private func bundleRequest(_ directory: String, options: RunOptions) throws -> RunRequest {
        if !options.command.isEmpty {
            throw CleaveError.message("--bundle runs the config's process.args: remove the command after --bundle (\(options.command.joined(separator: " ")))")
        }
        if let flag = RunFlags.bundleConflicts.first(where: options.flags.isSet) {
            throw CleaveError.message("--\(flag) cannot be combined with --bundle: set it in config.json (linux.resources; the name is --id)")
        }
        return try BundleRequest.make(bundle: directory, id: id)
    }
}
