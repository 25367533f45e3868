import CleaveSystem
import Glibc

/// Waits for "populated 0" in cgroup.events. The kernel signals changes of
/// that file as IN_MODIFY, so this sleeps in poll(2) instead of polling the
/// file; the file is re-read after arming the watch so no change is missed.
struct EmptinessWaiter {
    let cgroup: Cgroup

    func wait(timeout: Duration) throws -> Bool {
        let events = cgroup.file("cgroup.events")
        let inotify: Inotify
        do {
            inotify = try Inotify()
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
            let ms = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let n = poll(&pfd, 1, ms)
            if n < 0 && errno != EINTR { throw CgroupError.system("poll", events) }
            if n > 0 { _ = inotify.readEvents() }
        }
    }
}
