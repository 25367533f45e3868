import Glibc
import SystemPackage
import CleaveSystem

/// A cgroup below the cgroup2 mount, addressed by a validated relative path.
public struct Cgroup: Sendable, Hashable {
    public let mount: CgroupMount
    /// Validated, without a leading slash; "" is the root.
    public let relativePath: String

    public var path: String { relativePath.isEmpty ? mount.mountPoint : mount.mountPoint + "/" + relativePath }

    public init(mount: CgroupMount, path: String, parent: String? = nil) throws {
        self.mount = mount
        self.relativePath = try CgroupPath.validate(path, under: parent)
        try CgroupPath.checkLength(relativePath, mountPoint: mount.mountPoint)
    }

    /// From an absolute filesystem path below the mount (e.g. a watcher's argument).
    public init(absolutePath: String, mount: CgroupMount) throws {
        // Bytes: String's == and hasPrefix compare canonically equivalent text as equal.
        guard absolutePath.utf8.elementsEqual(mount.mountPoint.utf8) || absolutePath.utf8.starts(with: (mount.mountPoint + "/").utf8) else {
            throw CgroupError(operation: "validate", path: absolutePath, message: "is not below the cgroup2 mount \(mount.mountPoint)")
        }
        try self.init(mount: mount, path: String(decoding: absolutePath.utf8.dropFirst(mount.mountPoint.utf8.count), as: UTF8.self))
    }

    /// The cgroup a process is in, from the "0::" line of /proc/<pid>/cgroup.
    public static func ofProcess(_ pid: Int32, mount: CgroupMount) throws -> Cgroup {
        let file = "/proc/\(pid)/cgroup"
        guard let text = FileIO.read(file) else { throw CgroupError.system("read", file) }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else {
            throw CgroupError(operation: "parse", path: file, message: "no cgroup v2 ('0::') line")
        }
        var p = String(line.dropFirst(3))
        if p.hasSuffix(" (deleted)") { p = String(p.dropLast(10)) }
        return try Cgroup(mount: mount, path: p)
    }

    public var exists: Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public var parentCgroup: Cgroup? {
        guard !relativePath.isEmpty else { return nil }
        let parent = relativePath.lastIndex(of: "/").map { String(relativePath[..<$0]) } ?? ""
        return try? Cgroup(mount: mount, path: parent)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// nil when the file does not exist (a controller that is not enabled).
    public func read(_ name: String) throws -> String? {
        if let text = FileIO.read(file(name)) { return text }
        let err = errno
        if err == ENOENT { return nil }
        throw CgroupError.system("read", file(name), errno: err)
    }

    public func write(_ name: String, _ value: String) throws {
        let err = FileIO.write(file(name), value)
        guard err == 0 else {
            throw CgroupError(operation: "write '\(value.count > 64 ? String(value.prefix(64)) + "…" : value)' to", path: file(name),
                              message: errnoText(err), errno: err)
        }
    }

    public func processes() throws -> [Int32] {
        guard let text = try read("cgroup.procs") else {
            throw CgroupError(operation: "read", path: file("cgroup.procs"), message: errnoText(ENOENT), errno: ENOENT)
        }
        do { return try StatParsers.pids(text) } catch let e as ParseError {
            throw CgroupError(operation: "parse", path: file("cgroup.procs"), message: e.description)
        }
    }

    public func isPopulated() throws -> Bool {
        guard let text = try read("cgroup.events") else {
            throw CgroupError(operation: "read", path: file("cgroup.events"), message: errnoText(ENOENT), errno: ENOENT)
        }
        return try value("populated", of: text, "cgroup.events") == 1
    }

    public func children() throws -> [Cgroup] {
        guard let dir = opendir(path) else { throw CgroupError.system("opendir", path) }
        defer { closedir(dir) }
        var result = [Cgroup]()
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            result.append(try Cgroup(mount: mount, path: relativePath.isEmpty ? name : relativePath + "/" + name))
        }
        return result.sorted { $0.relativePath < $1.relativePath }
    }

    /// For clone3(CLONE_INTO_CGROUP).
    public func openDirectory() throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
        } catch let e as Errno {
            throw CgroupError(operation: "open", path: path, message: errnoText(e.rawValue), errno: e.rawValue)
        }
    }

    /// One key of a flat-keyed file; a malformed file is a CgroupError naming it.
    func value(_ key: String, of text: String, _ name: String) throws -> UInt64? {
        do { return try StatParsers.flatKeyedValue(key, in: text) } catch let e as ParseError {
            throw CgroupError(operation: "parse", path: file(name), message: e.description)
        }
    }

    func flat(_ text: String, _ name: String) throws -> [String: UInt64] {
        do { return try StatParsers.flatKeyed(text) } catch let e as ParseError {
            throw CgroupError(operation: "parse", path: file(name), message: e.description)
        }
    }
}
