import FoundationEssentials
import Glibc

/// Append-only JSON-lines log of what detached parts of cleave did (the
/// teardown watcher has no terminal). One object a line, appended with
/// O_APPEND so concurrent writers never interleave inside a line.
public struct EventLog: Sendable {
    public static let defaultPath = "/run/cleave/events.log"
    public let path: String

    public init(path: String = EventLog.defaultPath) { self.path = path }

    /// CLEAVE_EVENT_LOG overrides the default location.
    public static func fromEnvironment() -> EventLog {
        EventLog(path: getenv("CLEAVE_EVENT_LOG").map { String(cString: $0) } ?? defaultPath)
    }

    public struct Event: Codable, Sendable {
        public var time: Double
        public var event: String
        public var cgroup: String
        public var message: String
        public var seconds: Double?
    }

    public func append(_ event: String, cgroup: String, message: String, seconds: Double? = nil) {
        if let slash = path.lastIndex(of: "/") { AtomicFile.makeDirectories(String(path[..<slash])) }
        let entry = Event(time: Clock.wallSeconds(), event: event, cgroup: cgroup, message: message, seconds: seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entry) else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(data) + [0x0a]
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    public func events() -> [Event] {
        guard let text = ProcFS.readFile(path, limit: 64 << 20) else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(Event.self, from: Data($0.utf8)) }
    }
}
