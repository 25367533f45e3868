import CCleaveSystem
import CleaveCgroups
import Glibc
import CleaveSystem

/// The teardown watcher started while the workload runs (async teardown), so that after
/// the reap `cleave run` only writes the exit status, hands the run over and exits: the
/// spawn of the watcher, the statistics and the wait for the cgroup happen off that path.
///
/// It waits on a unix socket (its descriptor 3). The handover is one message carrying the
/// exit status (`Handover`) and the run's lock (SCM_RIGHTS): the lock stays cleave's until
/// then, so a cleave that is killed before the exit releases it as before (`cleave gc` takes
/// over), and the watcher, seeing the socket close without a message, ends without touching
/// anything. The watcher writes the status into the record once cleave has exited: on an
/// ext4 /run, replacing the record by rename flushes it and took about 2 ms, which the
/// manager waiting for cleave's exit no longer pays.
package struct StandbyWatcher {
    package let pid: Int32
    private let socket: Int32

    /// How long a workload runs before its watcher is started: one that ends sooner (a
    /// `/bin/true`) never pays for a watcher it would not need.
    package static let delayMilliseconds: Int32 = 20

    /// What travels in the handover message (the lock beside it): how the workload ended.
    package struct Handover: Equatable {
        package var status: ExitStatus
        package var exitedAt: Double
        /// Set only when cleave read memory.events (after a SIGKILL) and found an OOM kill.
        package var oomKilled: Bool

        package init(status: ExitStatus, exitedAt: Double, oomKilled: Bool) {
            self.status = status; self.exitedAt = exitedAt; self.oomKilled = oomKilled
        }

        package static let tag = "cleave-handover-2"

        /// "cleave-handover-2 exit|signal N AT oom|-"
        package var message: [UInt8] {
            let (kind, value): (String, Int32)
            switch status {
            case .exited(let code): (kind, value) = ("exit", code)
            case .signaled(let sig): (kind, value) = ("signal", sig)
            }
            return Array("\(Self.tag) \(kind) \(value) \(exitedAt) \(oomKilled ? "oom" : "-")".utf8)
        }

        package init?(message: ArraySlice<UInt8>) {
            let fields = String(decoding: message, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 5, fields[0] == Self.tag, let value = Int32(fields[2]),
                  let at = Double(fields[3]), fields[4] == "oom" || fields[4] == "-" else { return nil }
            switch fields[1] {
            case "exit" where (0...255).contains(value): status = .exited(value)
            case "signal" where (1...64).contains(value): status = .signaled(value)
            default: return nil
            }
            exitedAt = at
            oomKilled = fields[4] == "oom"
        }
    }

    /// Starts `cleave __watch-teardown --handover ...` detached.
    package static func start(_ options: TeardownWatcher.Options) throws -> StandbyWatcher {
        var fds: [Int32] = [-1, -1]
        guard cleave_seqpacket_pair(&fds) == 0 else {
            throw CleaveError.system(context: "socketpair for the teardown watcher", SystemError("socketpair"))
        }
        defer { close(fds[1]) }
        do {
            // In cleave's session: see yieldingToOthers.
            let pid = try DetachedProcess.spawn(try TeardownWatcher.arguments(options) + ["--handover"],
                                                detachment: .ownProcessGroup, passing: fds[1])
            return StandbyWatcher(pid: pid, socket: fds[0])
        } catch {
            close(fds[0])
            throw error
        }
    }

    /// Gives the run (its end and its lock) to the watcher. False when it is gone: the caller
    /// then finishes the run itself, as without a standby watcher.
    package func handOver(_ handover: Handover, lock: OwnerLock) -> Bool {
        let message = handover.message
        let sent = message.withUnsafeBytes {
            cleave_send_with_fd(socket, $0.baseAddress, $0.count, lock.descriptor)
        }
        return sent == message.count
    }

    /// No handover: the watcher sees the socket close and ends. (cleave's exit closes it too.)
    package func dismiss() {
        close(socket)
    }

    /// How long the watcher stays off the run queue once the handover has woken it: cleave is
    /// still exiting then, and the manager about to wake. A SCHED_IDLE task the scheduler picks
    /// keeps its CPU until it blocks or the tick; with `perf`, right after cleave's exit, the
    /// watcher's 1 ms of bookkeeping ran ahead of a manager that had just used more than its
    /// share, which then waited for it.
    package static let pauseAfterHandover: Duration = .milliseconds(5)

    /// The watcher's side: waits for the handover on `socket`, then `pauseAfterHandover`. The
    /// workload's end and the lock's descriptor, or nil when the socket closed without them (the
    /// run did not need the watcher, or cleave died).
    package static func awaitHandover(on socket: Int32) -> (handover: Handover, lock: Int32)? {
        var buffer = [UInt8](repeating: 0, count: 128)
        var fd: Int32 = -1
        let n = buffer.withUnsafeMutableBytes { cleave_recv_with_fd(socket, $0.baseAddress, $0.count, &fd) }
        if n > 0 { usleep(UInt32(pauseAfterHandover / .microseconds(1))) }
        guard n > 0, n < buffer.count, let handover = Handover(message: buffer[..<n]), fd >= 0 else {
            if fd >= 0 { close(fd) }
            return nil
        }
        return (handover, fd)
    }

    /// Runs `body` at SCHED_IDLE: the watcher's wait for the handover and its bookkeeping right
    /// after it then never take a CPU from cleave's exit or from the manager that cleave's exit
    /// wakes (on two CPUs, with the helper freeing on one, a watcher woken at the normal
    /// priority delayed the manager by 1.5-5 ms). That holds only among the tasks the scheduler
    /// ranks together: with autogroup a session of its own made the watcher a group of its
    /// own, and a manager whose group had just run cleave's exit waited for the next tick
    /// behind it (2.5 ms seen); hence the watcher's own process group in cleave's session. Only where
    /// the watcher may come back to SCHED_OTHER afterwards (CAP_SYS_NICE: root in the initial
    /// user namespace); elsewhere `body` runs at the normal priority.
    package static func yieldingToOthers(_ body: () -> Void) {
        let canReturn = geteuid() == 0
            && FileIO.read("/proc/self/uid_map")?.split(whereSeparator: { $0 == " " || $0 == "\n" }) == ["0", "0", "4294967295"]
        let lowered = canReturn && cleave_set_sched_idle(1) == 0
        body()
        if lowered { _ = cleave_set_sched_idle(0) }
    }

    /// Waits (at most `timeout`) until cleave has closed its end, i.e. exited, so that the
    /// watcher's work does not take a CPU from cleave's own exit.
    package static func awaitExit(of socket: Int32, timeout: Duration) {
        var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
        let deadline = Clock.deadline(after: timeout)
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let left = Int64(deadline) - Int64(Clock.monotonicNanoseconds())
            guard left > 0 else { return }
            let n = poll(&fds, 1, Int32(max(1, left / 1_000_000)))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            // SEQPACKET: EOF reads 0; anything else is drained and ignored.
            if fds[0].revents & Int16(POLLHUP) != 0 { return }
            if recv(socket, &buffer, buffer.count, Int32(MSG_DONTWAIT)) <= 0 { return }
        }
    }
}
