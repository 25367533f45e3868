import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// A bundle directory in /tmp holding one config.json; removed by `remove()`.
struct TestBundle {
    let directory: String
    var configPath: String { directory + "/config.json" }

    init(_ config: String) throws {
        var template = Array("/tmp/cleave-test-bundle-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CleaveError.message("mkdtemp: \(SystemError.reason(errno))")
        }
        directory = String(cString: made)
        try AtomicFile.write(Array(config.utf8), to: configPath)
    }

    /// A file path inside the bundle, for hooks and workloads to write to.
    func file(_ name: String) -> String { directory + "/" + name }

    func read(_ name: String) -> String? { FileIO.read(file(name)) }

    func remove() { TestEnvironment.removeTree(directory) }

    /// A minimal process-workload config.json around `process` and `extra` top-level members.
    static func config(args: [String], process extraProcess: String = "", cgroupsPath: String? = nil, extra: String = "") -> String {
        let quoted = args.map { "\"" + $0.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"") + "\"" }
        let linux = cgroupsPath.map { ", \"linux\": {\"cgroupsPath\": \"\($0)\"}" } ?? ""
        return """
        {"ociVersion": "1.0.2",
         "process": {"args": [\(quoted.joined(separator: ", "))], "cwd": "/", "user": {"uid": 0, "gid": 0},
                     "env": ["PATH=/usr/bin:/bin"]\(extraProcess.isEmpty ? "" : ", " + extraProcess)}\(linux)\(extra.isEmpty ? "" : ", " + extra)}
        """
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
