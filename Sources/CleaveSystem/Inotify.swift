import Glibc

/// An inotify instance (non-blocking, close-on-exec): cgroupfs reports a change of
/// cgroup.events ("populated", "frozen") as IN_MODIFY, which is how cleave waits for a
/// cgroup to empty without polling the file.
public final class Inotify {
    public struct Event: Sendable { public let wd: Int32; public let mask: UInt32; public let name: String }

    public let descriptor: Int32

    public init() throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw SystemError("inotify_init1") }
    }

    deinit { close(descriptor) }

    /// The watch descriptor, or a SystemError naming the path (ENOENT: it is gone;
    /// ENOSPC: fs.inotify.max_user_watches is reached).
    public func addWatch(_ path: String, mask: UInt32) throws -> Int32 {
        let wd = inotify_add_watch(descriptor, path, mask)
        guard wd >= 0 else { throw SystemError("inotify_add_watch", path: path) }
        return wd
    }

    /// EINVAL once the watched directory is gone is harmless: the kernel dropped the watch.
    public func removeWatch(_ wd: Int32) { inotify_rm_watch(descriptor, wd) }

    /// Every event queued now; empty when none is (the descriptor never blocks).
    public func readEvents() -> [Event] {
        var events = [Event]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return events }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + 16 <= n {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let len = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let name = String(decoding: raw[(offset + 16)..<(offset + 16 + len)].prefix { $0 != 0 }, as: UTF8.self)
                    events.append(Event(wd: wd, mask: mask, name: name))
                    offset += 16 + len
                }
            }
        }
    }
}
