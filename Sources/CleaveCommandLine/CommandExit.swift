import ArgumentParser
import CleaveSystem
import Glibc

/// The one place a command's end becomes what a runtime user expects: "cleave: <message>" on
/// stderr and 125 for cleave's own errors (bad flags included), 126/127 when the command
/// cannot be executed or is not found, 0 for help and --version. Both executables end here.
public enum CommandExit {
    /// `command` is asked for only when an error needs swift-argument-parser's words: the
    /// fast paths never touch the parser's conformances (their lookup is 15 µs of a start).
    public static func run(_ command: @autoclosure () -> any ParsableCommand.Type, _ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let error as CleaveError {
            Console.error(error.description)
            exit(error.exitCode)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            parserError(error, command())
        }
    }

    private static func parserError<Command: ParsableCommand>(_ error: Error, _ command: Command.Type) -> Never {
        if Command.exitCode(for: error) == .success { Command.exit(withError: error) }
        let message = Command.fullMessage(for: error)
        Console.emit(message.hasPrefix("Error: ") ? "cleave: " + message.dropFirst(7) : "cleave: " + message)
        exit(CleaveError.usage)
    }
}
