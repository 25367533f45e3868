import Glibc
import CCleaveContract
import CleaveSystem

/// Locates libcleave-teardown.so, the library injected with LD_PRELOAD.
public enum TeardownLibrary {
    public static let fileName = "libcleave-teardown.so"

    /// CLEAVE_TEARDOWN_LIBRARY, then next to the cleave executable, then
    /// ../lib beside it, then the usual system directories, then the copy cleave carries
    /// (written once under /run/cleave/lib: see EmbeddedLibraryInstaller). The environment as
    /// a list, looked up by name: a dictionary's first use cost 0.1 ms of an async start.
    public static func locate(environment: EnvironmentList) -> String? {
        if let explicit = environment[CLEAVE_ENV_TEARDOWN_LIBRARY], !explicit.isEmpty {
            return access(explicit, R_OK) == 0 ? explicit : nil
        }
        var candidates = [String]()
        if let exe = Executable.directory() {
            candidates += ["\(exe)/\(fileName)", "\(exe)/../lib/\(fileName)", "\(exe)/../lib/cleave/\(fileName)"]
        }
        candidates += ["/usr/local/lib/\(fileName)", "/usr/lib/\(fileName)", "/usr/lib/cleave/\(fileName)"]
        return candidates.first { access($0, R_OK) == 0 }
            ?? EmbeddedLibraryInstaller.install(environment: environment)
    }
}
