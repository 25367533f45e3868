import CleaveOCI
import FoundationEssentials
import Glibc
import CleaveSystem

/// The state file of one run (`--state-file`): what a manager needs to find the
/// workload, its cgroup and its helper, and how it ended.
public struct RunState: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case created, running, stopped, removed }

    public var id: String
    public var name: String
    public var cgroup: String
    public var pid: Int32?
    public var helperPids: [Int32] = []
    public var teardown: TeardownMode
    public var status: Status
    public var exitCode: Int32?
    public var signal: Int32?
    public var oomKilled: Bool?
    public var createdAt: Double
    public var startedAt: Double?
    public var exitedAt: Double?
    public var cgroupRemovedAt: Double?
    public var teardownTimedOut: Bool?
    /// The `cleave run` process that owns the run, and its start time (field 22 of
    /// /proc/<pid>/stat): `cleave gc` acts only when this pid is gone or names another process.
    public var supervisorPid: Int32?
    public var supervisorStartTime: UInt64?
    /// The workload's start time, to tell it from a process that reused its pid.
    public var pidStartTime: UInt64?
    /// --keep-cgroup: the cgroup outlives the run on purpose; `cleave gc` leaves it.
    public var keepCgroup: Bool?

    public func write(to path: String) throws {
        try AtomicFile.write(Array((jsonText() + "\n").utf8), to: path)
    }

    /// Where every run keeps its record while it owns a cgroup (CLEAVE_STATE_DIR overrides):
    /// `cleave gc` finds the runs whose cleave was killed here.
    public static var directory: String {
        getenv("CLEAVE_STATE_DIR").map { String(cString: $0) } ?? "/run/cleave/runs"
    }

    /// `<id>-<supervisor pid>.json`: unique among live runs even when ids repeat (bundles).
    public static func recordPath(id: String, supervisorPid: Int32, directory: String = RunState.directory) -> String {
        "\(directory)/\(SafeName.make(id, limit: 64))-\(supervisorPid).json"
    }

    public static func read(from path: String) throws -> RunState {
        guard let text = FileIO.read(path) else { throw CleaveError.message("cannot read state file \(Escaped.text(path))") }
        return try JSONDecoder().decode(RunState.self, from: Data(text.utf8))
    }
}
