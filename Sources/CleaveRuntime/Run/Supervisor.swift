import CCleaveSpawn
import CCleaveSystem
import Glibc
import CleaveSystem

/// Forwards signals to the workload and waits for it to end, on one poll(2)
/// over a signalfd and the workload's pidfd: the reap happens the moment the
/// kernel reports the exit, with no polling interval.
public struct Supervisor {
    /// Signals a shell or a manager sends to a foreground job.
    public static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    private let signalFD: Int32

    /// Blocks the forwarded signals in the calling thread (do this before
    /// starting any thread, so none inherits them unblocked) and opens a
    /// signalfd for them. The child's mask is reset by the C spawn code.
    public init() throws {
        signalFD = Self.forwardedSignals.withUnsafeBufferPointer {
            cleave_signalfd($0.baseAddress, Int32($0.count))
        }
        guard signalFD >= 0 else {
            throw CleaveError.system(context: "signalfd", SystemError("signalfd"))
        }
    }

    /// Waits until the workload exits, forwarding every blocked signal that
    /// arrives meanwhile. Returns its status; the workload is reaped.
    public func waitForExit(of workload: SpawnedWorkload, onSignal: (Int32) -> Void = { _ in }) throws -> ExitStatus {
        while true {
            if let status = try waitForExit(of: workload, withinMilliseconds: -1, onSignal: onSignal) { return status }
        }
    }

    /// As waitForExit, but gives up after `milliseconds` (-1: never) and returns nil then.
    public func waitForExit(of workload: SpawnedWorkload, withinMilliseconds milliseconds: Int32,
                            onSignal: (Int32) -> Void = { _ in }) throws -> ExitStatus? {
        let sharesOurGroup = getpgid(workload.pid) == getpgrp()
        // A tuple, not an array: [pollfd]'s first use costs 15 µs of a start.
        var fds = (pollfd(fd: workload.pidfd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0))
        let deadline = milliseconds < 0 ? UInt64.max : Clock.deadline(after: .milliseconds(milliseconds))
        while true {
            fds.0.revents = 0; fds.1.revents = 0
            var wait: Int32 = -1
            if milliseconds >= 0 {
                let now = Clock.monotonicNanoseconds()
                guard now < deadline else { return nil }
                wait = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
            }
            let n = withUnsafeMutableBytes(of: &fds) { poll($0.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, wait) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CleaveError.system(context: "poll", SystemError("poll"))
            }
            if fds.1.revents & Int16(POLLIN) != 0 {
                var sig: Int32 = 0, fromKernel: Int32 = 0, sender: Int32 = 0
                while cleave_signalfd_read(signalFD, &sig, &fromKernel, &sender) == 1 {
                    // A terminal sends SIGINT/SIGQUIT/SIGWINCH to the whole
                    // foreground group; when the workload is in it, it already
                    // has the signal and forwarding would deliver it twice.
                    let fromTerminal = fromKernel != 0 && sharesOurGroup
                    if !fromTerminal {
                        _ = cleave_pidfd_send_signal(workload.pidfd, sig)
                    }
                    onSignal(sig)
                }
            }
            if fds.0.revents & Int16(POLLIN | POLLHUP) != 0 {
                var status: Int32 = 0
                let rc = cleave_waitid_pidfd(workload.pidfd, &status, WEXITED)
                if rc == 0 { return ExitStatus(waitStatus: status) }
                if errno == EINTR { continue }
                throw CleaveError.system(context: "waitid on the workload", SystemError("waitid"))
            }
        }
    }

    /// The signals stay blocked: cleave exits right after, and a late
    /// SIGTERM must not kill it before it reports the workload's status.
    public func close() {
        Glibc.close(signalFD)
    }
}
