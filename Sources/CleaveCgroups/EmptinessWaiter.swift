import CleaveSystem
import Glibc

/// Waits for "populated 0" in cgroup.events. The kernel signals changes of
/// that file as IN_MODIFY, so this sleeps in poll(2) instead of polling the
/// file; the file is re-read after arming the watch so no change is missed.
/// The kernel sends at most one such event per 10 ms and defers the next, and
/// an rmdir of the cgroup cancels a deferred one: a cgroup emptied and removed
/// by someone else within that window (a second watcher of the same run) sends
/// nothing to this file. The rmdir itself is seen in the parent directory
/// (IN_DELETE: cgroupfs sends no IN_DELETE_SELF for a removed cgroup, tested),
/// and the file is re-read every `recheck` whatever comes.
struct EmptinessWaiter {
    let cgroup: Cgroup
    var recheck: Duration = .seconds(5)

    func wait(timeout: Duration) throws -> Bool {
        let events = cgroup.file("cgroup.events")
        let inotify: Inotify
        do {
            inotify = try Inotify()
            if let slash = cgroup.path.lastIndex(of: "/"), slash != cgroup.path.startIndex {
                _ = try inotify.addWatch(String(cgroup.path[..<slash]), mask: UInt32(IN_DELETE | IN_ONLYDIR))
            }
            _ = try inotify.addWatch(events, mask: UInt32(IN_MODIFY | IN_DELETE_SELF | IN_IGNORED))
        } catch let error as SystemError {
            if error.operation == "inotify_add_watch" && error.errno == ENOENT { return true }   // gone: certainly empty
            throw CgroupError.system(error.operation, events, errno: error.errno)
        }
        let deadline = Clock.deadline(after: timeout)
        while true {
            guard let populated = try? cgroup.isPopulated() else { return !cgroup.exists }
            if !populated { return true }
            let now = Clock.monotonicNanoseconds()
            if now >= deadline { return false }
            var pfd = pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0)
            let wake = min(deadline, Clock.deadline(after: recheck))  // both saturated
            let ms = Int32(min((wake - now) / 1_000_000 + 1, 3_600_000))
            let n = poll(&pfd, 1, ms)
            if n < 0 && errno != EINTR { throw CgroupError.system("poll", events) }
            if n > 0 { _ = inotify.readEvents() }
        }
    }
}
