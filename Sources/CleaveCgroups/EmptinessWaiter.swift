import Glibc

/// Waits for "populated 0" in cgroup.events. The kernel signals changes of
/// that file as IN_MODIFY, so this sleeps in poll(2) instead of polling the
/// file; the file is re-read after arming the watch so no change is missed.
struct EmptinessWaiter {
    let cgroup: Cgroup

    func wait(timeout: Duration) throws -> Bool {
        let events = cgroup.file("cgroup.events")
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw CgroupError.system("inotify_init1", events) }
        defer { close(fd) }
        if inotify_add_watch(fd, events, UInt32(IN_MODIFY | IN_DELETE_SELF | IN_IGNORED)) < 0 {
            if errno == ENOENT { return true }   // the cgroup is gone: certainly empty
            throw CgroupError.system("inotify_add_watch", events)
        }
        let deadline = monotonicNanos() + UInt64(max(0, timeout.components.seconds)) * 1_000_000_000
            + UInt64(max(0, timeout.components.attoseconds / 1_000_000_000))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            guard let populated = try? cgroup.isPopulated() else { return !cgroup.exists }
            if !populated { return true }
            let now = monotonicNanos()
            if now >= deadline { return false }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let n = poll(&pfd, 1, ms)
            if n < 0 && errno != EINTR { throw CgroupError.system("poll", events) }
            if n > 0 { _ = read(fd, &buffer, buffer.count) }
        }
    }
}
