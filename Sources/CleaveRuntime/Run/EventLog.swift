import FoundationEssentials
import Glibc
import CleaveSystem

/// Append-only JSON-lines log of what detached parts of cleave did (the
/// teardown watcher has no terminal). One object a line, appended with
/// O_APPEND so concurrent writers never interleave inside a line, and O_NOFOLLOW
/// so a link planted at its name does not send the line elsewhere (AtomicFile.append).
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
        let entry = Event(time: Clock.wallSeconds(), event: event, cgroup: cgroup, message: message, seconds: seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entry) else { return }
        do {
            // A sticky directory (/tmp) is accepted: AtomicFile.append checks the file itself.
            let (directory, _) = AtomicFile.split(path)
            try StateDirectory.prepare(directory, allowSticky: true)
            try AtomicFile.append(Array(data) + [0x0a], to: path)
        } catch {
            Console.warning("event log: \(error)")
        }
    }

    public func events() -> [Event] {
        guard let text = FileIO.read(path, limit: 64 << 20) else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(Event.self, from: Data($0.utf8)) }
    }
}
