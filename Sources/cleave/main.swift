import ArgumentParser
import CleaveCommandLine
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

// Every failure ends with "cleave: <message>" and an exit code a runtime user
// expects: 125 for cleave's own errors (also bad flags), the workload's status
// otherwise. Help and --version exit 0.
CommandExit.run(Cleave.self) {
    // `cleave run [--opt value...] -- COMMAND` and the teardown watcher's own command line skip
    // swift-argument-parser, whose start-up is most of their overhead; anything else (help, odd
    // forms, errors) takes the full parser.
    let arguments = CommandLine.arguments
    if arguments.count > 1, arguments[1] == "agent" { try AgentLauncherCommand.exec(Array(arguments.dropFirst(2))) }
    if arguments.count > 2, arguments[1] == "run", let flags = RunFlags.parseFast(arguments[2...]) {
        exit(try RunCommand.run(flags))
    }
    if arguments.count > 2, arguments[1] == "__watch-teardown", let invocation = TeardownWatcher.parseFast(arguments[2...]) {
        exit(TeardownWatcher.main(invocation))
    }
    var command = try Cleave.parseAsRoot()
    try command.run()
}
