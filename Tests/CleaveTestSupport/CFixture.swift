import CleaveSystem
import Glibc
import Synchronization

/// C programs the tests build from Tests/CleaveRuntimeTests/Fixtures with cc, once per test
/// process each, into private directories under /tmp that are removed at exit.
public enum CFixture {
    private static let directories = Mutex<[String]>([])
    private static let removeAtExit: Void = { atexit { CFixture.removeAll() } }()

    /// Compiles `Fixtures/<name>.c` with `flags` before the source and `libraries` after it;
    /// the binary's path, or why it could not be built.
    public static func build(_ name: String, flags: [String], libraries: [String] = [], output: String? = nil)
        -> Result<String, CleaveError> {
        let source = TestEnvironment.repositoryRoot + "/Tests/CleaveRuntimeTests/Fixtures/\(name).c"
        let directory = "/tmp/cleave-test-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(directory, 0o755) == 0 else {
            return .failure(.system(context: "mkdir \(directory)", SystemError("mkdir", path: directory)))
        }
        _ = removeAtExit
        directories.withLock { $0.append(directory) }
        let binary = directory + "/" + (output ?? name)
        guard let result = try? ChildProcess(["/usr/bin/cc"] + flags + ["-o", binary, source] + libraries).wait() else {
            return .failure(.message("cannot start cc"))
        }
        guard result.status == 0 else { return .failure(.message("cc \(flags.joined(separator: " ")) \(source): \(result.stderr)")) }
        return .success(binary)
    }

    private static func removeAll() {
        for directory in directories.withLock({ $0 }) { TestEnvironment.removeTree(directory) }
    }
}
