import CleaveTeardownImage
import Glibc
import CleaveSystem

/// Puts the library cleave carries (EmbeddedTeardownLibrary) on disk when none is installed,
/// so a `swift build` cleave injects its helper too. The file lives in a directory named for
/// the library's digest (`/run/cleave/lib/<digest>/libcleave-teardown.so` for root,
/// `$XDG_RUNTIME_DIR/cleave/lib/<digest>/…` otherwise): written once, then reused after its
/// bytes are compared. Every directory on the way must pass StateDirectory's check and the
/// file is written through AtomicFile, so nobody else can substitute the code every workload
/// will load.
package enum EmbeddedLibraryInstaller {
    /// One attempt per process (callers may look twice: the workload's environment, then cleave's).
    nonisolated(unsafe) private static var attempted: (done: Bool, path: String?) = (false, nil)

    package static func install(environment: EnvironmentList) -> String? {
        if !attempted.done { attempted = (true, installOnce(environment: environment)) }
        return attempted.path
    }

    private static func installOnce(environment: EnvironmentList) -> String? {
        guard let bytes = EmbeddedTeardownLibrary.bytes() else { return nil }
        let base: String
        if geteuid() == 0 {
            base = "/run/cleave"
        } else {
            guard let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") else { return nil }
            base = runtime + "/cleave"
        }
        let directory = "\(base)/lib/\(EmbeddedTeardownLibrary.digest)"
        let path = "\(directory)/\(TeardownLibrary.fileName)"
        do {
            for dir in [base, base + "/lib", directory] { try StateDirectory.prepare(dir) }
            if !existingFileMatches(path, bytes) {
                try AtomicFile.write(bytes, to: path, mode: 0o644)
                chmod(path, 0o644)   // readable by every workload whatever cleave's umask (the directory is ours alone)
            }
            return path
        } catch {
            Console.warning("the embedded \(TeardownLibrary.fileName) is not installed: \(error)")
            return nil
        }
    }

    private static func existingFileMatches(_ path: String, _ bytes: [UInt8]) -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(),
              st.st_mode & 0o022 == 0, Int(st.st_size) == bytes.count else { return false }
        var found = [UInt8](repeating: 0, count: bytes.count)
        let n = found.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n == bytes.count && found == bytes
    }
}
