import Glibc
import Logging
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

/// swift-log on stderr; CLEAVE_LOG_LEVEL=debug shows what cleave does.
enum CLILogging {
    static func logger() -> Logger {
        // No metadata provider: cleave bootstraps none, and asking LoggingSystem for it
        // initialises swift-log's global factory, 20 µs of every start.
        var logger = Logger(label: "cleave") { StreamLogHandler.standardError(label: $0, metadataProvider: nil) }
        let level = getenv("CLEAVE_LOG_LEVEL").map { String(cString: $0) } ?? "warning"
        logger.logLevel = Logger.Level(rawValue: level) ?? .warning
        return logger
    }
}
