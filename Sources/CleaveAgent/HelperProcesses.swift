import Glibc

/// What the agent needs of /proc: a process's name, to tell teardown helpers
/// (`cleanup/<pid>`, cleave's and QEMU's) from workloads, and whether a pid
/// still runs. Every reader returns nil for a process that is gone.
/// `procRoot` is /proc, or the host's /proc mounted elsewhere in a container.
struct HelperProcesses: Sendable {
    static let helperPrefix = "cleanup/"
    var procRoot = "/proc"

    func comm(_ pid: Int32) -> String? {
        let fd = open("\(procRoot)/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        var end = n
        while end > 0 && buf[end - 1] == 0x0a { end -= 1 }
        return String(decoding: buf[0..<end], as: UTF8.self)
    }

    static func isHelper(comm: String) -> Bool { comm.hasPrefix(helperPrefix) }

    /// The workload pid a helper's name carries (in the helper's pid namespace).
    static func namedWorkload(comm: String) -> Int32? {
        isHelper(comm: comm) ? Int32(comm.dropFirst(helperPrefix.count)) : nil
    }

    /// Alive and not a zombie.
    func isRunning(_ pid: Int32) -> Bool {
        let fd = open("\(procRoot)/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let close = buf[0..<n].lastIndex(of: 0x29 /* ) */), close + 2 < n else { return false }
        let state = buf[close + 2]
        return state != 0x5a /* Z */ && state != 0x58 /* X */
    }
}
