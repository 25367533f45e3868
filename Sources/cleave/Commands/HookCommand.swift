import ArgumentParser
import CleaveOCI
import FoundationEssentials
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

/// `cleave hook poststart|poststop`: an OCI hook for crun, runc, podman and CRI-O. It reads
/// the container state on stdin and always exits 0, so it never breaks the runtime; what
/// went wrong goes to stderr.
struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "OCI runtime hook: record a container's cgroup at poststart, report its accounting at poststop.",
        discussion: """
        Install it for both stages (manifests/oci/hooks.d/cleave.json for podman and CRI-O, or config.json's \
        hooks for crun and runc). poststart records a baseline under the state directory and follows the \
        teardown; poststop writes <dir>/reports/<id>.json and one line to the event log. \
        With --inject (or the annotation io.cleave.teardown=inject) poststart also gives the \
        container's process a helper by ptrace injection, no cleave prepare needed; \
        io.cleave.teardown=sync wins.
        """
    )

    enum Stage: String, ExpressibleByArgument, CaseIterable { case poststart, poststop }

    @Argument(help: "poststart or poststop (default: from the state's status, as hooks.d passes no stage: running -> poststart, stopped -> poststop).")
    var stage: Stage?
    @Option(name: .customLong("state-dir"), help: "Where records and reports go (default: $CLEAVE_HOOK_DIR or /run/cleave/hooks).")
    var stateDirectory: String?
    @Option(help: "poststop: how long to wait for the teardown to finish being observed.")
    var wait: String = "10s"
    @Flag(help: "poststart: give the container's process a helper by ptrace injection (as io.cleave.teardown=inject; io.cleave.teardown=sync wins).")
    var inject = false

    func run() throws {
        do {
            try runStage()
        } catch {
            Console.error("hook\(stage.map { " " + $0.rawValue } ?? ""): \(error)")
        }
        throw ExitCode(0)
    }

    private func runStage() throws {
        let waitLimit = try DurationParser.parse(wait, option: "--wait")
        let input = Data(try StandardInput.readAll())
        let state = try ContainerState.parse(from: input)
        guard HookFiles.isSafeID(state.id) else { throw CleaveError.message("container id '\(Escaped.text(state.id))' cannot name a file") }
        let files = HookFiles(directory: stateDirectory, id: state.id)
        try StateDirectory.prepare(files.directory)
        guard let stage = stage ?? Stage(status: state.status) else {
            throw CleaveError.message("cannot tell the stage from status '\(Escaped.text(state.status))': pass poststart or poststop")
        }
        switch stage {
        case .poststart:
            let follower = Executable.path().map { [$0, "__follow-teardown"] }
            let record = try PoststartHook.run(state: state, rawState: input, files: files, followerCommand: follower,
                                                inject: inject)
            // Runtimes often discard a hook's stderr (crun unless run.oci.hooks.stderr is set): the event log keeps it.
            let log = EventLog.fromEnvironment()
            for note in record.notes {
                Console.emit("cleave: hook poststart: \(Escaped.text(state.id)): note: \(note)")
                log.append("hook-note", cgroup: record.cgroup, message: "container \(state.id): \(note)")
            }
        case .poststop:
            let report = PoststopHook.run(state: state, files: files, wait: waitLimit)
            try PoststopHook.publish(report, files: files, log: EventLog.fromEnvironment())
            Console.emit("cleave: hook poststop: \(PoststopHook.summary(report))")
        }
    }
}

extension HookCommand.Stage {
    init?(status: String) {
        switch status {
        case "running": self = .poststart
        case "stopped": self = .poststop
        default: return nil
        }
    }
}

/// The detached follower poststart starts; not for people to call.
struct FollowTeardownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__follow-teardown", shouldDisplay: false)

    @Option var pid: Int32
    @Option var pidfd: Int32
    @Option var cgroup: String
    @Option var output: String

    func run() throws {
        do {
            try TeardownFollower.run(.init(pid: pid, pidfd: pidfd, cgroupPath: cgroup, output: output))
        } catch {
            // Detached, with no terminal: the event log is where this can be seen.
            EventLog.fromEnvironment().append("follow-error", cgroup: cgroup, message: "\(error)")
            throw ExitCode(1)
        }
    }
}
