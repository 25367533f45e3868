import Glibc

/// The one way cleave reads and writes small files (cgroupfs, /proc, state files): whole-file
/// reads and single-write(2) writes, as cgroupfs wants them (a value must arrive in one write).
public enum FileIO {
    /// The whole file, at most `limit` bytes; nil with errno set when it cannot be opened or
    /// read (a process or cgroup that vanished between a listing and a read is not an error).
    /// Files of up to 16 KiB (every cgroupfs file) are read without a heap buffer: the agent
    /// reads thousands of them per scrape.
    public static func read(_ path: String, limit: Int = 1 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var spill = [UInt8]()
        let head: String?? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16384) { buf -> String?? in
            var used = 0
            while used < buf.count {
                let n = Glibc.read(fd, buf.baseAddress! + used, min(buf.count - used, limit - used))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return .some(nil) }
                if n == 0 || used + n >= limit { used += n; return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<used]), as: UTF8.self) }
                used += n
            }
            spill.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<used]))
            return nil
        }
        if let head { return head }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while spill.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, limit - spill.count)) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            spill.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: spill, as: UTF8.self)
    }

    /// 0 on success, else the errno.
    public static func write(_ path: String, _ value: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        while true {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errno }
            return n == bytes.count ? 0 : EIO
        }
    }

    /// Writes all of `bytes` to a pipe whose reader may be gone, for library code that must not
    /// change the process's signal dispositions: SIGPIPE is blocked in this thread for the
    /// write, and the one the write raised is consumed before the mask is restored.
    /// false when the reader went away (EPIPE) or the write failed.
    @discardableResult
    public static func writeWithoutSIGPIPE(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var pipeSignal = sigset_t(), previous = sigset_t(), pending = sigset_t()
        sigemptyset(&pipeSignal); sigaddset(&pipeSignal, SIGPIPE)
        sigpending(&pending)
        let alreadyPending = sigismember(&pending, SIGPIPE) == 1
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            if !alreadyPending {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                while sigtimedwait(&pipeSignal, nil, &zero) < 0 && errno == EINTR {}
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
