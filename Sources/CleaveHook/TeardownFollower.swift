import CCleaveSystem
import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// Detached from poststart: waits for the container's main process to exit, then for its
/// cgroup to empty, and writes what it saw. The runtime may remove the cgroup right after
/// it empties, so the final readings are taken here, not in poststop.
package enum TeardownFollower {
    package struct Options: Sendable {
        package var pid: Int32
        /// A pidfd of the container's main process, inherited from poststart.
        package var pidfd: Int32
        package var cgroupPath: String
        package var output: String
        package var timeout: Duration = .seconds(600)
        package init(pid: Int32, pidfd: Int32, cgroupPath: String, output: String) {
            self.pid = pid; self.pidfd = pidfd; self.cgroupPath = cgroupPath; self.output = output
        }
    }

    package static func run(_ options: Options) throws {
        let pidfd = options.pidfd
        guard cleave_pidfd_send_signal(pidfd, 0) == 0 || errno == ESRCH else {
            throw CleaveError.system(context: "descriptor \(pidfd) is not a pidfd of pid \(options.pid)", SystemError("pidfd_send_signal"))
        }
        defer { close(pidfd) }
        let mount = try CgroupMount.discover()
        let cgroup = try Cgroup(absolutePath: options.cgroupPath, mount: mount)

        var observation = TeardownObservation(helperPidsAtExit: [], outcome: "timeout")
        var peak: UInt64 = 0
        func sample() { peak = max(peak, cgroup.memoryHighWater() ?? 0) }
        // Sampled at once, then every 250 ms (memory.peak is the cgroup's own maximum), and
        // first of all at the exit: the runtime may remove the cgroup (crun delete) right after,
        // and a reading before the exit is then all the report has.
        sample()
        var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        while poll(&pfd, 1, 250) == 0 || (pfd.revents == 0) { sample() }
        sample()
        let exited = Clock.monotonicNanoseconds()
        observation.mainExitedAt = Clock.wallSeconds()
        let atExit = try? cgroup.stats()
        observation.memoryAtExitBytes = atExit?.memoryCurrent
        observation.helperPidsAtExit = TeardownHelpers.helpers(among: atExit?.processes ?? [])

        let emptied = (try? cgroup.waitUntilEmpty(timeout: options.timeout)) ?? !cgroup.exists
        if emptied {
            let final = try? cgroup.stats()
            observation.teardownSeconds = Double(Clock.monotonicNanoseconds() - exited) / 1e9
            observation.emptiedAt = Clock.wallSeconds()
            observation.outcome = final == nil ? "removed" : "empty"
            observation.memoryFinalBytes = final?.memoryCurrent
            observation.cpuUsageUsec = final?.cpuUsageUsec ?? atExit?.cpuUsageUsec
            peak = max(peak, final?.memoryPeak ?? 0)
        }
        observation.memoryPeakBytes = peak > 0 ? peak : nil
        try HookJSON.write(observation, to: options.output)
    }
}
