import CleaveCgroups
import FuzzSupport
import Glibc

// The cgroup stat parsers, alone and as Cgroup.stats() uses them. The input is split at NUL
// bytes into the files of a fake cgroup directory (a piece left out is a missing file, as when
// a controller is not enabled); stats() must return or throw a CgroupError naming a file.
private let files = ["memory.current", "memory.peak", "memory.stat", "memory.events", "cpu.stat",
                     "pids.current", "cgroup.procs", "cgroup.events"]

/// A scratch directory standing in for the cgroup2 mount, below $TMPDIR (hack/fuzz.sh points it
/// at a directory in /dev/shm and removes it, also after a crash).
private func scratch() -> String {
    let tmp = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return tmp + "/cleave-fuzz-stats.\(getpid())"
}

private let root: String = {
    let path = scratch()
    guard mkdir(path, 0o700) == 0 || errno == EEXIST, mkdir(path + "/cg", 0o700) == 0 || errno == EEXIST else {
        violation("mkdir \(path): errno \(errno)")
    }
    atexit {
        let path = scratch()
        for name in files { unlink(path + "/cg/" + name) }
        rmdir(path + "/cg")
        rmdir(path)
    }
    return path
}()

private func put(_ name: String, _ bytes: ArraySlice<UInt8>?) {
    let path = root + "/cg/" + name
    guard let bytes else { unlink(path); return }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { violation("open \(path): errno \(errno)") }
    defer { close(fd) }
    let n = Array(bytes).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard n == bytes.count else { violation("write \(path): \(n) of \(bytes.count)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStats(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    let text = String(decoding: bytes, as: UTF8.self)
    if let keyed = try? StatParsers.flatKeyed(text), keyed.keys.contains(where: { $0.isEmpty || $0.contains(" ") }) {
        violation("flatKeyed returned a blank or spaced key: \(keyed)")
    }
    // A value is read from decimal digits alone (leading zeros allowed), nothing else.
    if case .value(let v)? = try? StatParsers.singleValue(text),
       !text.trimmingBlanks.utf8.allSatisfy({ (0x30...0x39).contains($0) }) || UInt64(text.trimmingBlanks) != v {
        violation("singleValue read \(v) from '\(text)'")
    }
    if let pids = try? StatParsers.pids(text), pids.contains(where: { $0 <= 0 }) {
        violation("pids returned a pid <= 0: \(pids)")
    }

    let pieces = bytes.split(separator: 0, omittingEmptySubsequences: false)
    for (i, name) in files.enumerated() { put(name, i < pieces.count ? pieces[i] : nil) }
    do {
        let cgroup = try Cgroup(mount: CgroupMount(mountPoint: root, isUnified: true), path: "cg")
        let stats = try cgroup.stats()
        if let ws = stats.workingSet, let current = stats.memoryCurrent, ws > current {
            violation("working set \(ws) above memory.current \(current)")
        }
    } catch let error as CgroupError {
        guard error.path.hasPrefix(root + "/cg/"), !error.message.isEmpty else { violation("CgroupError without a file: \(error)") }
    } catch {
        violation("stats() threw \(type(of: error)), not CgroupError: \(error)")
    }
    return 0
}

extension String {
    /// What singleValue strips: blanks and newlines at both ends.
    var trimmingBlanks: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
