import CleaveSystem
import Glibc

/// An flock(2) on a file in cleave's state directory: held by `cleave run` from before it
/// creates its cgroup, handed to its teardown watcher, released by the kernel when the
/// last of them exits (a SIGKILL included). Only cleave can hold it: the file is created
/// 0600 by cleave's user, and a file owned by anyone else is never taken as a lock.
/// Nothing a process says about itself (argv, comm) counts as ownership.
public struct OwnerLock: Sendable {
    public let path: String
    public let descriptor: Int32

    /// Creates (or opens) the file and locks it exclusively. Waits while a `cleave gc`
    /// holds it for a moment to check it.
    public static func acquire(_ path: String) throws -> OwnerLock {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CgroupError.system("open lock file", path) }
        if let why = untrusted(fd) {
            close(fd)
            throw CgroupError(operation: "open lock file", path: path, message: why)
        }
        while flock(fd, LOCK_EX) != 0 {
            let err = errno
            if err == EINTR { continue }
            close(fd)
            throw CgroupError.system("flock", path, errno: err)
        }
        return OwnerLock(path: path, descriptor: fd)
    }

    /// The lock at `path` when no live process holds it (the caller then holds it until
    /// `release`), nil when someone does. A missing or untrusted file is free: it cannot
    /// prove anyone's ownership, so it yields an unlocked stand-in (descriptor -1).
    public static func takeIfFree(_ path: String) -> OwnerLock? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return OwnerLock(path: path, descriptor: -1) }
        if untrusted(fd) != nil { close(fd); return OwnerLock(path: path, descriptor: -1) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            close(fd)
            return nil   // EWOULDBLOCK: a live cleave holds it
        }
        return OwnerLock(path: path, descriptor: fd)
    }

    /// Whether a live cleave holds the lock at `path`.
    public static func isHeld(_ path: String) -> Bool {
        guard let lock = takeIfFree(path) else { return true }
        lock.release()
        return false
    }

    public func release() { if descriptor >= 0 { close(descriptor) } }

    /// Not a regular file, or owned by someone other than cleave's user (or root).
    private static func untrusted(_ fd: Int32) -> String? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "fstat: \(errnoText(errno))" }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
        guard st.st_uid == geteuid() || st.st_uid == 0 else { return "owned by uid \(st.st_uid), not by cleave's user" }
        return nil
    }
}
