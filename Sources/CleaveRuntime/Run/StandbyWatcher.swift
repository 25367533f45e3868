import CCleaveSystem
import CleaveCgroups
import Glibc
import CleaveSystem

/// The teardown watcher started while the workload runs (async teardown), so that after
/// the reap `cleave run` only writes the exit status, hands the run over and exits: the
/// spawn of the watcher, the statistics and the wait for the cgroup happen off that path.
///
/// It waits on a unix socket (its descriptor 3). The handover is one message carrying the
/// run's lock (SCM_RIGHTS): the lock stays cleave's until then, so a cleave that is killed
/// before the exit releases it as before (`cleave gc` takes over), and the watcher, seeing
/// the socket close without a message, ends without touching anything.
package struct StandbyWatcher {
    package let pid: Int32
    private let socket: Int32

    /// How long a workload runs before its watcher is started: one that ends sooner (a
    /// `/bin/true`) never pays for a watcher it would not need.
    package static let delayMilliseconds: Int32 = 20

    /// The handover message (the lock travels beside it).
    package static let handoverMessage: [UInt8] = Array("cleave-handover-1".utf8)

    /// Starts `cleave __watch-teardown --handover ...` detached.
    package static func start(_ options: TeardownWatcher.Options) throws -> StandbyWatcher {
        var fds: [Int32] = [-1, -1]
        guard cleave_seqpacket_pair(&fds) == 0 else {
            throw CleaveError.system(context: "socketpair for the teardown watcher", SystemError("socketpair"))
        }
        defer { close(fds[1]) }
        do {
            let pid = try DetachedProcess.spawn(try TeardownWatcher.arguments(options) + ["--handover"], passing: fds[1])
            return StandbyWatcher(pid: pid, socket: fds[0])
        } catch {
            close(fds[0])
            throw error
        }
    }

    /// Gives the run (and its lock) to the watcher. False when it is gone: the caller then
    /// finishes the run itself, as without a standby watcher.
    package func handOver(lock: OwnerLock) -> Bool {
        let sent = Self.handoverMessage.withUnsafeBytes {
            cleave_send_with_fd(socket, $0.baseAddress, $0.count, lock.descriptor)
        }
        return sent == Self.handoverMessage.count
    }

    /// No handover: the watcher sees the socket close and ends. (cleave's exit closes it too.)
    package func dismiss() {
        close(socket)
    }

    /// The watcher's side: waits for the handover on `socket`. The lock's descriptor, or nil
    /// when the socket closed without one (the run did not need the watcher, or cleave died).
    package static func awaitHandover(on socket: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 64)
        var fd: Int32 = -1
        let n = buffer.withUnsafeMutableBytes { cleave_recv_with_fd(socket, $0.baseAddress, $0.count, &fd) }
        guard n == handoverMessage.count, Array(buffer.prefix(n)) == handoverMessage, fd >= 0 else {
            if fd >= 0 { close(fd) }
            return nil
        }
        return fd
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
