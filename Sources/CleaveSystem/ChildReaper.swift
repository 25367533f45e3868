import CCleaveSystem
import Glibc

/// Reaps exited children without blocking: teardown helpers reparented to a
/// subreaper end up here.
public enum ChildReaper {
    public static func becomeSubreaper() {
        _ = cleave_set_child_subreaper()
    }

    public static func reapAll() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG | __WALL) > 0 {}
    }
}

public func usleepMilliseconds(_ ms: UInt32) { usleep(ms * 1000) }
