import Glibc

/// Small readers for /proc. Every reader returns nil when the process is gone:
/// processes vanish between a listing and a read, and that is not an error.
public enum ProcFS {
    /// The process's command name (`comm`), e.g. "cleanup/1234".
    public static func comm(_ pid: Int32) -> String? {
        FileIO.read("/proc/\(pid)/comm")?.trimmed()
    }

    /// The cgroup v2 path of a process ("/cleave/x"), from the "0::" line.
    public static func cgroupPath(_ pid: Int32) -> String? {
        guard let text = FileIO.read("/proc/\(pid)/cgroup") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// A field of /proc/<pid>/status, e.g. "State", "PPid", "VmRSS".
    public static func status(_ pid: Int32, field: String) -> String? {
        guard let text = FileIO.read("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).trimmed()
        }
        return nil
    }

    public static func parentPid(_ pid: Int32) -> Int32? {
        status(pid, field: "PPid").flatMap { Int32($0) }
    }

    /// True while the process exists and is not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let state = status(pid, field: "State") else { return false }
        return !state.hasPrefix("Z") && !state.hasPrefix("X")
    }

    /// Descriptors the process holds open.
    public static func openDescriptorCount(_ pid: Int32) -> Int? {
        guard let dir = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        return count
    }

    /// Every pid under /proc.
    public static func allPids() -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var pids = [Int32]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let pid = Int32(name) { pids.append(pid) }
        }
        return pids
    }
}

extension ProcFS {
    /// Field 22 of /proc/<pid>/stat, in clock ticks since boot: with the pid it names one
    /// process for ever (a reused pid gets a later start time).
    public static func startTime(_ pid: Int32) -> UInt64? {
        FileIO.read("/proc/\(pid)/stat").flatMap(startTime(stat:))
    }

    /// starttime from the text of /proc/<pid>/stat. After "comm)" (the last ")": comm may hold
    /// any byte) come fields 3...; starttime is field 22, the 20th of those. Read on the bytes,
    /// without splitting (twice in every `cleave run`); nil when it is not a whole number.
    public static func startTime(stat text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { bytes -> UInt64? in
            guard let paren = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            var starttime: Range<Int>?
            ByteText.forEachField(bytes, in: (paren + 1)..<bytes.count) { index, field in
                if index == 19 { starttime = field }
                return index < 19
            }
            return starttime.flatMap { ByteText.wholeNumber(bytes[$0]) }
        }
    }

    /// NSpid of /proc/<pid>/status: the pid in each PID namespace, outermost first.
    public static func namespacePids(_ pid: Int32) -> [Int32]? {
        status(pid, field: "NSpid").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) } }
    }

    /// The process's environment ("NAME=value" strings); nil when unreadable.
    public static func environment(_ pid: Int32) -> [String]? {
        FileIO.read("/proc/\(pid)/environ").map { $0.split(separator: "\0").map(String.init) }
    }
}

extension ProcFS {
    /// Children of every thread of `pid` (zombies included).
    public static func children(of pid: Int32) -> [Int32] {
        guard let dir = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(dir) }
        var out = [Int32]()
        while let entry = readdir(dir) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int32(tid) != nil, let list = FileIO.read("/proc/\(pid)/task/\(tid)/children") else { continue }
            out += list.split(separator: " ").compactMap { Int32($0.trimmed()) }
        }
        return out
    }
}
