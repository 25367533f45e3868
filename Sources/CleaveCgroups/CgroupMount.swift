import CCleaveSystem
import CleaveSystem

/// The cgroup2 filesystem this process sees: where systemd puts it, or else from
/// /proc/self/mountinfo.
public struct CgroupMount: Sendable, Equatable, Hashable {
    public let mountPoint: String
    /// true on a unified host (cgroup2 only); false on a hybrid one, where v1
    /// hierarchies hold some controllers (often memory).
    public let isUnified: Bool

    public init(mountPoint: String, isUnified: Bool) {
        self.mountPoint = mountPoint
        self.isUnified = isUnified
    }

    /// systemd's and crun's test first: /sys/fs/cgroup itself cgroup2 (unified), or a tmpfs
    /// there with cgroup2 at /sys/fs/cgroup/unified (hybrid). Two statfs calls instead of the
    /// mount table, whose read and parse cost 80 µs of every `cleave run`; any other layout
    /// (cgroup2 mounted elsewhere, v1 only) is looked up in the mount table.
    public static func discover() throws -> CgroupMount {
        if let conventional = conventional() { return conventional }
        return try discover(mountinfoPath: "/proc/self/mountinfo")
    }

    static let cgroup2Magic = 0x6367_7270   // CGROUP2_SUPER_MAGIC
    static let tmpfsMagic = 0x0102_1994     // TMPFS_MAGIC

    static func conventional(root: String = "/sys/fs/cgroup") -> CgroupMount? {
        switch filesystemType(root) {
        case cgroup2Magic: return CgroupMount(mountPoint: root, isUnified: true)
        case tmpfsMagic where filesystemType(root + "/unified") == cgroup2Magic:
            return CgroupMount(mountPoint: root + "/unified", isUnified: false)
        default: return nil
        }
    }

    private static func filesystemType(_ path: String) -> Int? {
        var type = 0
        return cleave_filesystem_type(path, &type) == 0 ? type : nil
    }

    public static func discover(mountinfoPath: String) throws -> CgroupMount {
        guard let text = FileIO.read(mountinfoPath) else {
            throw CgroupError(operation: "read", path: mountinfoPath, message: "cannot read the mount table")
        }
        do { return try parse(mountinfo: text) } catch let e as ParseError {
            throw CgroupError(operation: "parse", path: mountinfoPath, message: e.message)
        }
    }

    /// Fields (proc(5)): id parent major:minor root mountpoint options [optional...] - fstype source superoptions.
    public static func parse(mountinfo: String) throws -> CgroupMount {
        var v2: [String] = []
        var v1Count = 0
        // On the bytes: splitting Characters (grapheme breaking) cost a tenth of a millisecond of
        // every `cleave run` for a mount table of twenty lines.
        for line in mountinfo.utf8.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard let dash = fields.firstIndex(where: { $0.elementsEqual("-".utf8) }), dash >= 6, dash + 1 < fields.count else { continue }
            if fields[dash + 1].elementsEqual("cgroup2".utf8) {
                v2.append(unescape(String(decoding: fields[4], as: UTF8.self)))
            } else if fields[dash + 1].elementsEqual("cgroup".utf8) {
                v1Count += 1
            }
        }
        // Prefer the conventional locations when several are mounted.
        guard let point = v2.first(where: { $0 == "/sys/fs/cgroup" }) ?? v2.first(where: { $0 == "/sys/fs/cgroup/unified" }) ?? v2.first else {
            throw ParseError("mountinfo", "no cgroup2 filesystem mounted")
        }
        return CgroupMount(mountPoint: point, isUnified: v1Count == 0)
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes = [UInt8]()
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 0x5c, i + 3 < u.count,
               let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v); i += 4
            } else { bytes.append(u[i]); i += 1 }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The controllers the root offers (cgroup.controllers).
    public func availableControllers() throws -> ControllerSet {
        let path = mountPoint + "/cgroup.controllers"
        guard let text = FileIO.read(path) else { throw CgroupError.system("read", path) }
        return ControllerSet.parse(text)
    }
}
