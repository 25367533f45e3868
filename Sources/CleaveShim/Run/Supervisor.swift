import CCleaveSpawn
import Glibc

/// Forwards signals to the workload and waits for it to end, on one poll(2)
/// over a signalfd and the workload's pidfd: the reap happens the moment the
/// kernel reports the exit, with no polling interval.
public struct Supervisor {
    /// Signals a shell or a manager sends to a foreground job.
    public static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    private let signalFD: Int32
    private var previousMask = sigset_t()

    /// Blocks the forwarded signals in the calling thread (do this before
    /// starting any thread, so none inherits them unblocked) and opens a
    /// signalfd for them. The child's mask is reset by the C spawn code.
    public init() throws {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in Self.forwardedSignals { sigaddset(&set, sig) }
        pthread_sigmask(SIG_BLOCK, &set, &previousMask)
        signalFD = signalfd(-1, &set, Int32(SFD_CLOEXEC))
        guard signalFD >= 0 else {
            throw ShimError("signalfd: \(String(cString: strerror(errno)))")
        }
    }

    /// Waits until the workload exits, forwarding every blocked signal that
    /// arrives meanwhile. Returns its status; the workload is reaped.
    public func waitForExit(of workload: SpawnedWorkload, onSignal: (Int32) -> Void = { _ in }) throws -> ExitStatus {
        let sharesOurGroup = getpgid(workload.pid) == getpgrp()
        var fds = [pollfd(fd: workload.pidfd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0; fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw ShimError("poll: \(String(cString: strerror(errno)))")
            }
            if fds[1].revents & Int16(POLLIN) != 0 {
                var info = signalfd_siginfo()
                let got = read(signalFD, &info, MemoryLayout<signalfd_siginfo>.size)
                if got == MemoryLayout<signalfd_siginfo>.size {
                    let sig = Int32(info.ssi_signo)
                    // A terminal sends SIGINT/SIGQUIT/SIGWINCH to the whole
                    // foreground group; when the workload is in it, it already
                    // has the signal and forwarding would deliver it twice.
                    let fromTerminal = info.ssi_code == SI_KERNEL && sharesOurGroup
                    if !fromTerminal {
                        _ = cleave_pidfd_send_signal(workload.pidfd, sig)
                    }
                    onSignal(sig)
                }
            }
            if fds[0].revents & Int16(POLLIN | POLLHUP) != 0 {
                var status: Int32 = 0
                let rc = cleave_waitid_pidfd(workload.pidfd, &status, WEXITED)
                if rc == 0 { return ExitStatus(waitStatus: status) }
                if errno == EINTR { continue }
                throw ShimError("waitid on the workload: \(String(cString: strerror(errno)))")
            }
        }
    }

    public func close() {
        Glibc.close(signalFD)
        var mask = previousMask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}
