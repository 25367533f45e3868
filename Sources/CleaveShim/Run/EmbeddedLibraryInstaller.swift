import CleaveTeardownImage
import Glibc

/// Puts the library cleave carries (EmbeddedTeardownLibrary) on disk when none is installed,
/// so a `swift build` cleave injects its helper too. The file lives in a directory named for
/// the library's digest (`/run/cleave/lib/<digest>/libcleave-teardown.so` for root,
/// `$XDG_RUNTIME_DIR/cleave/lib/<digest>/…` otherwise): it is written once, then reused after
/// its bytes are compared. Every directory on the way must be a real directory owned by us and
/// writable by nobody else, and the file is created with O_EXCL|O_NOFOLLOW beside its final name
/// and renamed into place, so nobody else can substitute the code every workload will load.
enum EmbeddedLibraryInstaller {
    /// One attempt per process (callers may look twice: the workload's environment, then cleave's).
    nonisolated(unsafe) private static var attempted: (done: Bool, path: String?) = (false, nil)

    static func install(environment: [String: String]) -> String? {
        if !attempted.done { attempted = (true, installOnce(environment: environment)) }
        return attempted.path
    }

    private static func installOnce(environment: [String: String]) -> String? {
        guard let base = baseDirectory(environment: environment),
              let bytes = EmbeddedTeardownLibrary.bytes() else { return nil }
        var dir = base
        for component in ["lib", EmbeddedTeardownLibrary.digest] {
            dir += "/" + component
            guard ensurePrivateDirectory(dir) else { return nil }
        }
        let path = "\(dir)/\(TeardownLibrary.fileName)"
        if existingFileMatches(path, bytes) { return path }
        return write(bytes, directory: dir, name: TeardownLibrary.fileName) ? path : nil
    }

    private static func baseDirectory(environment: [String: String]) -> String? {
        if geteuid() == 0 {
            guard ensurePrivateDirectory("/run/cleave") else { return nil }
            return "/run/cleave"
        }
        guard let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/"),
              isPrivateDirectory(runtime) else { return nil }
        let base = "\(runtime)/cleave"
        return ensurePrivateDirectory(base) ? base : nil
    }

    /// A real directory (not a symlink), owned by the effective uid, writable only by it.
    private static func isPrivateDirectory(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == geteuid() && st.st_mode & 0o022 == 0
    }

    private static func ensurePrivateDirectory(_ path: String) -> Bool {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            Console.warning("cannot create \(path) for the embedded \(TeardownLibrary.fileName): \(String(cString: strerror(errno)))")
            return false
        }
        guard isPrivateDirectory(path) else {
            Console.warning("\(path) is not a directory owned by uid \(geteuid()) and writable only by it: the embedded \(TeardownLibrary.fileName) is not installed there")
            return false
        }
        return true
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

    private static func write(_ bytes: [UInt8], directory: String, name: String) -> Bool {
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dirfd >= 0 else { return false }
        defer { close(dirfd) }
        let temp = ".\(name).\(getpid()).tmp"
        let fd = openat(dirfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        var ok = fchmod(fd, 0o644) == 0
        var offset = 0
        while ok && offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { ok = false }
        }
        ok = close(fd) == 0 && ok
        if ok && renameat(dirfd, temp, dirfd, name) == 0 { return true }
        unlinkat(dirfd, temp, 0)
        return false
    }
}
