import CleaveSystem
import CCleaveSystem
import Glibc

/// Which cleave run owns a cgroup: an extended attribute on the cgroup directory naming
/// the run's OwnerLock. Only root can write trusted.* (a delegated user cannot forge it);
/// without root cleave uses user.* (cgroupfs has them since 5.7), which the delegated
/// user could write anyway. Set with XATTR_CREATE, it is also the claim that makes two
/// runs given the same cgroup exclusive.
public struct OwnerMark: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// cleave made the directory (mkdir succeeded): it may kill and remove it, and so may gc.
        case created
        /// Made by cleave with --keep-cgroup: never removed, not even by gc.
        case kept
        /// Existed before the run: cleave neither kills nor removes it.
        case claimed
    }
    public var kind: Kind
    public var lock: String

    public init(kind: Kind, lock: String) { self.kind = kind; self.lock = lock }

    /// From `description` ("created /run/cleave/runs/x-1.lock").
    public init?(description text: String) { self.init(text: text) }

    init?(text: String) {
        guard let space = text.firstIndex(of: " "), let kind = Kind(rawValue: String(text[..<space])) else { return nil }
        self.kind = kind
        lock = String(text[text.index(after: space)...])
        guard lock.hasPrefix("/") else { return nil }
    }

    public var description: String { "\(kind.rawValue) \(lock)" }

    public static var attribute: String { geteuid() == 0 ? "trusted.cleave.owner" : "user.cleave.owner" }
}

extension Cgroup {
    public enum ClaimResult: Sendable, Equatable {
        case claimed(OwnerMark)
        /// A live cleave run owns it.
        case owned(OwnerMark)
        /// cgroupfs refused the attribute (errno): no mark, no exclusivity.
        case unsupported(Int32)
    }

    /// The mark, nil when there is none (or it is not one of cleave's).
    public func ownerMark() -> OwnerMark? {
        var buffer = [UInt8](repeating: 0, count: 4200)
        let n = buffer.withUnsafeMutableBytes { cleave_getxattr(path, OwnerMark.attribute, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return OwnerMark(text: String(decoding: buffer[..<n], as: UTF8.self))
    }

    /// Sets `mark` unless the cgroup has one; a mark whose lock no live run holds is taken
    /// over (holding that stale lock while re-reading, so only one run can). A stale
    /// `created` mark is adopted as `adoptAs`: the cgroup is cleave's, whoever made it.
    public func claim(_ mark: OwnerMark, adoptAs: OwnerMark.Kind) throws -> ClaimResult {
        for _ in 0..<8 {
            let rc = set(mark, flags: Int32(CLEAVE_XATTR_CREATE))
            if rc == 0 { return .claimed(mark) }
            guard rc == EEXIST else {
                if rc == EOPNOTSUPP || rc == EPERM || rc == ENOSYS { return .unsupported(rc) }
                throw CgroupError(operation: "setxattr \(OwnerMark.attribute) on", path: path, message: errnoText(rc), errno: rc)
            }
            guard let current = ownerMark() else { continue }   // released meanwhile: try again
            guard let stale = OwnerLock.takeIfFree(current.lock) else { return .owned(current) }
            defer { stale.release() }
            guard ownerMark() == current else { continue }
            var ours = mark
            if current.kind == .created && mark.kind == .claimed { ours.kind = adoptAs }
            let replaced = set(ours, flags: Int32(CLEAVE_XATTR_REPLACE))
            if replaced == 0 { return .claimed(ours) }
            if replaced != ENODATA {
                throw CgroupError(operation: "setxattr \(OwnerMark.attribute) on", path: path, message: errnoText(replaced), errno: replaced)
            }
        }
        throw CgroupError(operation: "claim", path: path, message: "its owner mark kept changing")
    }

    /// Removes the mark if it is still `mark` (a later run may have claimed the cgroup).
    public func releaseMark(_ mark: OwnerMark) {
        guard ownerMark() == mark else { return }
        _ = cleave_removexattr(path, OwnerMark.attribute)
    }

    /// 0 or the errno.
    private func set(_ mark: OwnerMark, flags: Int32) -> Int32 {
        let bytes = Array(mark.description.utf8)
        let rc = bytes.withUnsafeBytes { cleave_setxattr(path, OwnerMark.attribute, $0.baseAddress, $0.count, flags) }
        return rc == 0 ? 0 : errno
    }
}
