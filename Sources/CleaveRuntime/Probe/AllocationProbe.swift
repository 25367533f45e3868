import CCleaveProbe
import Glibc
import CleaveSystem

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

    /// 64 TiB: half of x86_64's 128 TiB user address space, far above any real machine, and
    /// small enough that the length and the per-thread arithmetic below never overflow Int.
    public static let maximumSize: UInt64 = 1 << 46
    public static let threadRange = 1...1024

    /// The mapping's length and each thread's share in pages, range-checked: every SIZE and
    /// thread count either gets a clear error here or arithmetic that cannot overflow.
    public func plan(page: Int) throws -> (length: Int, pagesPerThread: Int) {
        guard size > 0 else { throw CleaveError.message("probe alloc: SIZE must be greater than 0") }
        guard size <= Self.maximumSize else {
            throw CleaveError.message("probe alloc: SIZE \(size) bytes is too large (at most \(Self.maximumSize) bytes, 64 TiB)")
        }
        guard Self.threadRange.contains(threads) else { throw CleaveError.message("probe alloc: --threads must be between 1 and 1024") }
        let length = Int(size)
        return (length, (length / page + threads - 1) / threads)
    }

    public func run() throws -> Never {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let (length, pagesPerThread) = try plan(page: page)
        // Async mode under a static cleave: the preload could not load, the linked helper starts here.
        _ = cleave_probe_start_helper()
        guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else {
            throw CleaveError.system(context: "probe alloc: cannot map \(size) bytes", SystemError("mmap"))
        }
        // Debian kernels default THP to "always"; say which page size we want
        // or with huge pages the teardown frees 512 times fewer pages and looks free.
        _ = madvise(base, length, transparentHugePages ? 14 /* MADV_HUGEPAGE */ : 15 /* MADV_NOHUGEPAGE */)

        if threads == 1 {
            cleave_touch_pages(base, length, page)
        } else {
            try touchFromThreads(base: base, length: length, page: page, pagesPerThread: pagesPerThread)
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
    private func touchFromThreads(base: UnsafeMutableRawPointer, length: Int, page: Int, pagesPerThread: Int) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CleaveError.system(context: "probe alloc: pipe", SystemError("pipe")) }
        for i in 0..<threads {
            let start = min(i * pagesPerThread * page, length)
            let end = min(start + pagesPerThread * page, length)
            let (slice, count, done) = (base + start, end - start, fds[1])
            nonisolated(unsafe) let region = slice
            do {
                try OSThread.start {
                    cleave_touch_pages(region, count, page)
                    var one: UInt8 = 1
                    _ = write(done, &one, 1)
                    while true { pause() }
                }
            } catch let error as SystemError {
                throw CleaveError.system(context: "probe alloc: cannot start thread", error)
            }
        }
        var remaining = threads
        var buf = [UInt8](repeating: 0, count: 64)
        while remaining > 0 {
            let n = read(fds[0], &buf, min(buf.count, remaining))
            if n > 0 { remaining -= n } else if errno != EINTR { break }
        }
    }
}
