import Foundation
import Testing
@testable import CleaveOCI
import CleaveJSON

/// A fresh directory under the system temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("cleave-oci-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Writes `json` as `<dir>/config.json` and loads the bundle.
func loadBundle(_ json: String) throws -> RuntimeSpec {
    try withTemporaryDirectory { dir in
        try Data(json.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return try BundleLoader.load(bundle: dir)
    }
}

/// The OCIError that decoding `json` as /b/config.json throws, or nil (recorded as an issue).
func decodeError(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> OCIError? {
    do {
        _ = try BundleLoader.decode(Data(json.utf8), file: "/b/config.json")
        Issue.record("expected an OCIError, decoding succeeded", sourceLocation: sourceLocation)
    } catch let error as OCIError {
        return error
    } catch {
        Issue.record("expected an OCIError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A minimal valid process-workload config; `extra` adds top-level members.
func minimalConfig(ociVersion: String = "1.0.2", process: String? = nil, extra: String = "") -> String {
    let process = process ?? """
        {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/"}
        """
    return """
    {"ociVersion": "\(ociVersion)", "process": \(process)\(extra.isEmpty ? "" : ", " + extra)}
    """
}
