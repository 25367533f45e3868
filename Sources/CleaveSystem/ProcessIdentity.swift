import CCleaveSystem
import Glibc

/// A pid with its start time (field 22 of /proc/<pid>/stat) names one process for ever: a
/// reused pid gets a later start time. The start time is read while a pidfd holds the process
/// and counts only if the process is still there afterwards.
public enum ProcessIdentity {
    public enum Status: Equatable, Sendable {
        case alive
        case gone
        /// The pid names a process that started at this tick, not the recorded one.
        case reused(UInt64)
    }

    /// The process behind `pid`, held: its pidfd (the caller closes it) and its start time.
    public struct Held: Sendable {
        public let pidfd: Int32
        public let startTime: UInt64
    }

    /// Throws SystemError("pidfd_open") (ESRCH: no such process), or ESRCH for a process
    /// that exited while it was being read.
    public static func hold(_ pid: Int32) throws -> Held {
        guard pid > 0 else { throw SystemError("pidfd_open", errno: ESRCH) }
        let pidfd = cleave_pidfd_open(pid)
        guard pidfd >= 0 else { throw SystemError("pidfd_open") }
        guard let startTime = ProcFS.startTime(pid), cleave_pidfd_send_signal(pidfd, 0) == 0, ProcFS.isAlive(pid) else {
            close(pidfd)
            throw SystemError("read /proc/\(pid)/stat", errno: ESRCH)
        }
        return Held(pidfd: pidfd, startTime: startTime)
    }

    public static func check(pid: Int32, startTime: UInt64?) -> Status {
        guard let held = try? hold(pid) else { return .gone }
        close(held.pidfd)
        if let startTime, held.startTime != startTime { return .reused(held.startTime) }
        return .alive
    }
}
