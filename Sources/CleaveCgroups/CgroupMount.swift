import CleaveSystem
/// The cgroup2 filesystem this process sees, from /proc/self/mountinfo.
public struct CgroupMount: Sendable, Equatable, Hashable {
    public let mountPoint: String
    /// true on a unified host (cgroup2 only); false on a hybrid one, where v1
    /// hierarchies hold some controllers (often memory).
    public let isUnified: Bool

    public init(mountPoint: String, isUnified: Bool) {
        self.mountPoint = mountPoint
        self.isUnified = isUnified
    }

    public static func discover(mountinfoPath: String = "/proc/self/mountinfo") throws -> CgroupMount {
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
    public func availableControllers() throws -> Set<String> {
        let path = mountPoint + "/cgroup.controllers"
        guard let text = FileIO.read(path) else { throw CgroupError.system("read", path) }
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }
}
