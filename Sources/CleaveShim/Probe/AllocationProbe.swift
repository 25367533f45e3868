import CCleaveProbe
import Glibc

/// `cleave probe alloc`: a workload with a known memory footprint for tests,
/// demos and benchmarks. It maps and touches SIZE of anonymous memory
/// (optionally from N threads), prints `ready <pid>`, then waits.
public struct AllocationProbe {
    public var size: UInt64
    public var transparentHugePages = false
    public var threads = 1
    /// Wait for stdin to close and exit 0, instead of waiting for a signal.
    public var hold = false

    public init(size: UInt64) { self.size = size }

    public func run() throws -> Never {
        guard size > 0 else { throw ShimError("probe alloc: SIZE must be greater than 0") }
        guard threads >= 1 && threads <= 1024 else { throw ShimError("probe alloc: --threads must be between 1 and 1024") }
        let length = Int(size)
        guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else {
            throw ShimError("probe alloc: cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        // Debian kernels default THP to "always"; say which page size we want
        // or teardown looks free (design.md).
        _ = madvise(base, length, transparentHugePages ? 14 /* MADV_HUGEPAGE */ : 15 /* MADV_NOHUGEPAGE */)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))

        if threads == 1 {
            cleave_touch_pages(base, length, page)
        } else {
            try touchFromThreads(base: base, length: length, page: page)
        }
        let line = "ready \(getpid())\n"
        line.withCString { p in _ = write(1, p, strlen(p)) }

        if hold {
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(0, &buf, buf.count)
                if n == 0 || (n < 0 && errno != EINTR) { break }
            }
            exit(0)
        }
        while true { pause() }
    }

    /// Each thread touches its slice, reports over a pipe, then sleeps: the
    /// threads stay alive so the process ends multi-threaded.
    private func touchFromThreads(base: UnsafeMutableRawPointer, length: Int, page: Int) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ShimError("probe alloc: pipe: \(String(cString: strerror(errno)))") }
        let pagesPerThread = (length / page + threads - 1) / threads
        for i in 0..<threads {
            let start = min(i * pagesPerThread * page, length)
            let end = min(start + pagesPerThread * page, length)
            let job = TouchJob(base: base + start, length: end - start, page: page, done: fds[1])
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                let job = Unmanaged<TouchJob>.fromOpaque(raw).takeRetainedValue()
                cleave_touch_pages(job.base, job.length, job.page)
                var one: UInt8 = 1
                _ = write(job.done, &one, 1)
                while true { pause() }
            }, context)
            guard rc == 0 else { throw ShimError("probe alloc: cannot start thread: \(String(cString: strerror(rc)))") }
        }
        var remaining = threads
        var buf = [UInt8](repeating: 0, count: 64)
        while remaining > 0 {
            let n = read(fds[0], &buf, min(buf.count, remaining))
            if n > 0 { remaining -= n } else if errno != EINTR { break }
        }
    }
}

private final class TouchJob: @unchecked Sendable {
    let base: UnsafeMutableRawPointer, length: Int, page: Int, done: Int32
    init(base: UnsafeMutableRawPointer, length: Int, page: Int, done: Int32) {
        self.base = base; self.length = length; self.page = page; self.done = done
    }
}
