import Glibc

/// The directories cleave keeps state in (/run/cleave, CLEAVE_STATE_DIR, CLEAVE_HOOK_DIR,
/// --state-dir): a record there is acted on (gc kills what it names), so only root (or the
/// caller, when cleave runs unprivileged) may write there. Checked with lstat: a real
/// directory, owned by root or the caller, not writable by group or others.
public enum StateDirectory {
    /// Creates `path` when missing (with missing parents, root-owned, `mode`), then checks it.
    public static func prepare(_ path: String, mode: mode_t = 0o755, allowSticky: Bool = false) throws {
        var info = stat()
        if lstat(path, &info) != 0 && errno == ENOENT {
            AtomicFile.makeDirectories(path, mode: mode)
        }
        try check(path, allowSticky: allowSticky)
    }

    /// Throws (exit 125) unless `path` is a directory nobody but root or the caller can change.
    /// `allowSticky`: a sticky directory such as /tmp is accepted too (for the event log, which
    /// checks the file it appends to; others cannot rename or remove it there).
    public static func check(_ path: String, allowSticky: Bool = false) throws {
        if let problem = problem(path, allowSticky: allowSticky) {
            throw CleaveError.message("state directory \(Escaped.text(path)): \(problem)")
        }
    }

    /// Why `path` is not a safe state directory, or nil when it is.
    public static func problem(_ path: String, allowSticky: Bool = false) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "lstat: \(errnoText(errno))" }
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK { return "is a symbolic link (must be a real directory)" }
        guard type == S_IFDIR else { return "is not a directory" }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            return "owned by uid \(info.st_uid) (must be owned by root\(geteuid() == 0 ? "" : " or uid \(geteuid())"))"
        }
        let sticky = info.st_mode & S_ISVTX != 0
        if info.st_mode & 0o022 != 0 && !(allowSticky && sticky) {
            return "writable by group or others (mode \(String(info.st_mode & 0o7777, radix: 8))): anyone who can write there could forge or redirect cleave's state"
        }
        // Whoever can write in the parent can rename this directory away and put another in its
        // place; a sticky parent such as /tmp is fine (only the owner may rename there).
        let parent = AtomicFile.split(path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path).0
        var up = stat()
        if parent != path, stat(parent, &up) == 0 {
            guard up.st_uid == 0 || up.st_uid == geteuid() else {
                return "its parent \(Escaped.text(parent)) is owned by uid \(up.st_uid) (must be owned by root\(geteuid() == 0 ? "" : " or uid \(geteuid())"))"
            }
            if up.st_mode & 0o022 != 0 && up.st_mode & S_ISVTX == 0 {
                return "its parent \(Escaped.text(parent)) is writable by group or others (mode \(String(up.st_mode & 0o7777, radix: 8))) and not sticky"
            }
        }
        return nil
    }
}
