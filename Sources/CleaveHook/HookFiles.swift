import Glibc
import CleaveRuntime
import CleaveSystem

/// Where `cleave hook` keeps what poststart learnt for poststop, and its reports:
/// `<dir>/<id>.json` (the poststart record), `<dir>/<id>.teardown.json` (the follower's
/// observation) and `<dir>/reports/<id>.json` (poststop's report).
package struct HookFiles: Sendable {
    package static let defaultDirectory = "/run/cleave/hooks"
    package let directory: String
    package let id: String

    /// CLEAVE_HOOK_DIR overrides the default, for tests and rootless set-ups.
    package init(directory: String?, id: String) {
        self.directory = directory ?? getenv("CLEAVE_HOOK_DIR").map { String(cString: $0) } ?? HookFiles.defaultDirectory
        self.id = id
    }

    package var record: String { "\(directory)/\(id).json" }
    package var observation: String { "\(directory)/\(id).teardown.json" }
    package var reportDirectory: String { "\(directory)/reports" }
    package var report: String { "\(reportDirectory)/\(id).json" }

    /// Container ids come from the runtime; one with a '/' or a leading '.' must not pick
    /// the file name.
    package static func isSafeID(_ id: String) -> Bool {
        // Bytes, not Characters: a '/' followed by a combining mark is one Character.
        let bytes = Array(id.utf8)
        return !bytes.isEmpty && bytes.count <= 256 && bytes.first != UInt8(ascii: ".") && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
    }
}
