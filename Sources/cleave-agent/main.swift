import ArgumentParser
import Glibc
import CleaveSystem

// As in cleave's main: "cleave: <message>" and 125 for bad input; help exits 0.
do {
    var command = try AgentCommand.parseAsRoot()
    try command.run()
} catch let error as CleaveError {
    Console.error(error.description)
    exit(error.exitCode)
} catch let exitCode as ExitCode {
    exit(exitCode.rawValue)
} catch {
    if AgentCommand.exitCode(for: error) == .success { AgentCommand.exit(withError: error) }
    let message = AgentCommand.fullMessage(for: error)
    Console.emit(message.hasPrefix("Error: ") ? "cleave: " + message.dropFirst(7) : "cleave: " + message)
    exit(CleaveError.usage)
}
