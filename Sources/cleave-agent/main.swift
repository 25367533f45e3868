import ArgumentParser
import CleaveCommandLine
import Glibc
import CleaveSystem

// As in cleave's main: "cleave: <message>" and 125 for bad input; help exits 0.
CommandExit.run(AgentCommand.self) {
    var command = try AgentCommand.parseAsRoot()
    try command.run()
}
