import CCleaveSystem
import Glibc
import CleaveSystem

/// Whether a program can take the teardown library through LD_PRELOAD, read from its file:
/// a static ELF has no PT_INTERP (no dynamic loader reads LD_PRELOAD), and a set-id file (or
/// one with file capabilities) whose exec changes the credentials runs in secure-execution
/// mode, where the loader ignores an LD_PRELOAD path.
public enum ExecutableKind: Equatable, Sendable {
    case dynamic
    case staticELF
    case setID
    /// A static build of cleave itself (the running binary's file): its probe starts the
    /// teardown helper it links when the environment asks for the preload, and its other
    /// commands need none, so nothing is injected.
    case linkedHelper
    /// Not an ELF file we can read (a script, which `#!` hands to a dynamic interpreter).
    case other

    public var needsInjection: Bool { self == .staticELF || self == .setID }

    /// `uid`/`gid`: who execs it (the workload's user); `noNewPrivileges`: the kernel then
    /// ignores set-id bits and file capabilities, and the loader honours LD_PRELOAD.
    /// `runningExecutable`: the file of the cleave deciding (tests name another).
    public static func of(path: String, uid: uid_t = getuid(), gid: gid_t = getgid(),
                          noNewPrivileges: Bool = false, runningExecutable: String = "/proc/self/exe") -> ExecutableKind {
        var st = stat()
        guard stat(path, &st) == 0 else { return .other }
        if !noNewPrivileges && securelyExecuted(path: path, st, uid: uid, gid: gid) { return .setID }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .other }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 64)
        guard readFully(fd, &header, at: 0) else { return .other }
        let kind = classify(header: header) { offset, count in
            var bytes = [UInt8](repeating: 0, count: count)
            return readFully(fd, &bytes, at: offset) ? bytes : nil
        }
        return kind == .staticELF && sameFile(st, runningExecutable) ? .linkedHelper : kind
    }

    /// Whether `st` is the file at `path` (device and inode): for /proc/self/exe, this cleave.
    private static func sameFile(_ st: stat, _ path: String) -> Bool {
        var other = stat()
        return stat(path, &other) == 0 && other.st_dev == st.st_dev && other.st_ino == st.st_ino
    }

    /// The decision on an ELF64 little-endian header and its program headers (`read` returns
    /// `count` bytes at `offset`, or nil).
    package static func classify(header: [UInt8], read: (Int, Int) -> [UInt8]?) -> ExecutableKind {
        guard header.count >= 64, header[0] == 0x7f, header[1] == 0x45, header[2] == 0x4c, header[3] == 0x46,
              header[4] == 2 /* ELFCLASS64 */, header[5] == 1 /* little-endian */ else { return .other }
        let phoff = Int(le(header, 32, 8)), phentsize = Int(le(header, 54, 2)), phnum = Int(le(header, 56, 2))
        guard phentsize >= 56, phnum > 0, phnum < 4096, phoff > 0,
              let table = read(phoff, phentsize * phnum), table.count == phentsize * phnum else { return .other }
        for i in 0..<phnum where le(table, i * phentsize, 4) == 3 /* PT_INTERP */ {
            return .dynamic
        }
        return .staticELF
    }

    /// Secure execution (AT_SECURE): the exec changes the effective uid or gid, or a non-root
    /// user gains file capabilities. A setuid-root file exec'd by root changes nothing, so
    /// LD_PRELOAD reaches it (injecting as well would give it two helpers).
    private static func securelyExecuted(path: String, _ st: stat, uid: uid_t, gid: gid_t) -> Bool {
        if st.st_mode & S_ISUID != 0 && st.st_uid != uid { return true }
        if st.st_mode & S_ISGID != 0 && st.st_gid != gid { return true }
        guard uid != 0, let resolved = realpath(path, nil) else { return false }
        defer { free(resolved) }
        return cleave_getxattr(resolved, "security.capability", nil, 0) > 0
    }

    private static func le(_ bytes: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }

    private static func readFully(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int) -> Bool {
        let want = buffer.count
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
        return n == want
    }
}
