import Glibc

/// Where `cleave hook` keeps what poststart learnt for poststop, and its reports:
/// `<dir>/<id>.json` (the poststart record), `<dir>/<id>.teardown.json` (the follower's
/// observation) and `<dir>/reports/<id>.json` (poststop's report).
public struct HookFiles: Sendable {
    public static let defaultDirectory = "/run/cleave/hooks"
    public let directory: String
    public let id: String

    /// CLEAVE_HOOK_DIR overrides the default, for tests and rootless set-ups.
    public init(directory: String?, id: String) {
        self.directory = directory ?? getenv("CLEAVE_HOOK_DIR").map { String(cString: $0) } ?? HookFiles.defaultDirectory
        self.id = id
    }

    public var record: String { "\(directory)/\(id).json" }
    public var observation: String { "\(directory)/\(id).teardown.json" }
    public var reportDirectory: String { "\(directory)/reports" }
    public var report: String { "\(reportDirectory)/\(id).json" }

    /// Container ids come from the runtime; one with a '/' or a leading '.' must not pick
    /// the file name.
    public static func isSafeID(_ id: String) -> Bool {
        // Bytes, not Characters: a '/' followed by a combining mark is one Character.
        let bytes = Array(id.utf8)
        return !bytes.isEmpty && bytes.count <= 256 && bytes.first != UInt8(ascii: ".") && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
    }
}
