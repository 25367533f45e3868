import ArgumentParser

struct Cleave: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "cleave",
        abstract: "A cgroup-aware runtime shim with asynchronous teardown for big workloads.",
        discussion: """
        cleave starts a workload inside its own cgroup v2, relays its exit at once, and lets a \
        helper that shares the workload's memory free it in the background, charged to the \
        workload's cgroup.
        """,
        version: version,
        subcommands: [RunCommand.self, VerifyCommand.self, ProbeCommand.self, PSCommand.self, GCCommand.self,
                      SpecCommand.self, PrepareCommand.self, HookCommand.self, AgentLauncherCommand.self,
                      WatchTeardownCommand.self, FollowTeardownCommand.self, WaitMemoryCommand.self, AttachCommand.self]
    )
}
