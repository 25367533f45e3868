import ArgumentParser
import CleaveSystem
import Glibc

/// The one place a command's end becomes what a runtime user expects: "cleave: <message>" on
/// stderr and 125 for cleave's own errors (bad flags included), 126/127 when the command
/// cannot be executed or is not found, 0 for help and --version. Both executables end here.
public enum CommandExit {
    public static func run<Command: ParsableCommand>(_ command: Command.Type, _ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let error as CleaveError {
            Console.error(error.description)
            exit(error.exitCode)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            if Command.exitCode(for: error) == .success { Command.exit(withError: error) }
            let message = Command.fullMessage(for: error)
            Console.emit(message.hasPrefix("Error: ") ? "cleave: " + message.dropFirst(7) : "cleave: " + message)
            exit(CleaveError.usage)
        }
    }
}
