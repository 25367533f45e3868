import Glibc
import Logging
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

/// swift-log on stderr; CLEAVE_LOG_LEVEL=debug shows what cleave does.
enum CLILogging {
    static func logger() -> Logger {
        var logger = Logger(label: "cleave") { StreamLogHandler.standardError(label: $0) }
        let level = getenv("CLEAVE_LOG_LEVEL").map { String(cString: $0) } ?? "warning"
        logger.logLevel = Logger.Level(rawValue: level) ?? .warning
        return logger
    }
}
