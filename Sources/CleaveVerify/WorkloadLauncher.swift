import CleaveCgroups
import CCleaveSystem
import Glibc
import CleaveRuntime
import CCleaveContract
import CleaveSystem

/// Starts verify's workload in its cgroup and waits until it has allocated:
/// the probe says `ready <pid>`; any other command is ready once it is quiet
/// (memory.current stops growing and it stops using CPU; a short settle
/// without a memory controller).
struct WorkloadLauncher {
    let spawned: SpawnedWorkload
    /// How the async workload got its helper (WorkloadInjection.swift); nil in sync mode.
    var helperOrigin: HelperOrigin?

    func waitForExit() throws -> ExitStatus { try spawned.waitForExit() }

    static func start(mode: TeardownMode, options: VerifyOptions, cgroup: Cgroup, memoryAvailable: Bool) throws -> WorkloadLauncher {
        var env = EnvironmentList.current()
        let argv: [String]
        if let command = options.command {
            argv = command
        } else {
            guard let exe = Executable.path() else { throw CleaveError.message("cannot find the cleave executable") }
            argv = [exe, "probe", "alloc", String(options.probeSize)] + (options.threads > 1 ? ["--threads", String(options.threads)] : [])
        }
        let executable = try CommandResolver.resolve(argv[0], path: env["PATH"])
        let injection = injectionReason(mode: mode, inject: options.inject, executable: executable)
        switch mode {
        case .async:
            if let workers = options.teardownWorkers { env[CLEAVE_ENV_TEARDOWN_WORKERS] = String(workers) }
            env[CLEAVE_ENV_TEARDOWN] = nil
            // As `cleave run`: LD_PRELOAD unless --inject, also beside an injected helper (a
            // static launcher exec'ing a dynamic program keeps one).
            if options.inject { break }
            guard let library = TeardownLibrary.locate(environment: env) else {
                if injection != nil { break }
                throw CleaveError.message("\(TeardownLibrary.fileName) not found next to cleave (set \(CLEAVE_ENV_TEARDOWN_LIBRARY))")
            }
            // A command too, as `cleave run` would start it (a program with a helper
            // of its own, like QEMU's -async-teardown, then has two).
            env["LD_PRELOAD"] = EnvironmentList.preloadValue(adding: library, to: env["LD_PRELOAD"])
        case .sync:
            env[CLEAVE_ENV_TEARDOWN] = "off"
        }

        var fds: [Int32] = [0, 0]
        guard cleave_pipe_cloexec(&fds) == 0 else { throw CleaveError.system(context: "pipe", SystemError("pipe2")) }
        defer { close(fds[0]) }
        let directory = try cgroup.openDirectory()
        defer { try? directory.close() }
        let spawned: SpawnedWorkload
        var origin: HelperOrigin? = mode == .async ? HelperOrigin(method: .preload) : nil
        do {
            var request = WorkloadSpawner.Request(
                executable: executable, arguments: argv, environment: env.strings,
                cgroupDirectory: directory.rawValue, cgroupProcsPath: cgroup.path + "/cgroup.procs",
                settings: ProcessSettings(), pidEnvironmentName: CLEAVE_ENV_TEARDOWN_PID)
            request.stdoutFD = options.command == nil ? fds[1] : nil
            if let injection {
                let started = try spawnInjected(request)
                spawned = started.workload
                origin = HelperOrigin(method: .injection, reason: injection, injected: started.helper)
            } else {
                spawned = try WorkloadSpawner.spawn(request)
            }
        } catch let failure as SpawnFailure {
            close(fds[1])
            throw CommandResolver.failure(failure, command: argv[0])
        }
        close(fds[1])
        let launcher = WorkloadLauncher(spawned: spawned, helperOrigin: origin)
        do {
            if options.command == nil {
                try waitForReadyLine(fd: fds[0], pid: spawned.pid)
            } else {
                try waitForStableMemory(cgroup: cgroup, memoryAvailable: memoryAvailable, workload: spawned, size: options.size)
            }
        } catch {
            spawned.signal(SIGKILL)
            _ = try? spawned.waitForExit()
            close(spawned.pidfd)
            throw error
        }
        return launcher
    }

    private static func waitForReadyLine(fd: Int32, pid: Int32) throws {
        var line = [UInt8]()
        var byte: UInt8 = 0
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Clock.monotonicNanoseconds() + 600 * 1_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            let n = poll(&pfd, 1, 1000)
            if n < 0 && errno == EINTR { continue }
            if n == 0 { continue }
            let got = read(fd, &byte, 1)
            if got == 1 {
                if byte == 0x0a {
                    if String(decoding: line, as: UTF8.self).hasPrefix("ready ") { return }
                    line.removeAll()
                } else { line.append(byte) }
            } else if got == 0 {
                throw CleaveError.message("the probe (pid \(pid)) exited before it was ready")
            } else if errno != EINTR {
                throw CleaveError.system(context: "reading the probe's output", SystemError("read"))
            }
        }
        throw CleaveError.message("the probe (pid \(pid)) did not get ready within 600 s")
    }

    /// A command is taken as ready once it is quiet: memory.current has not grown by
    /// 1 MiB and the cgroup has used under 20 % of a CPU, for 2 s (0.5 s once it holds
    /// 90 % of --size). Memory alone is not enough: a program that starts slowly (an
    /// interpreter loading its modules) grows by less than 1 MiB a second for a while.
    private static func waitForStableMemory(cgroup: Cgroup, memoryAvailable: Bool, workload: SpawnedWorkload, size: UInt64?) throws {
        guard memoryAvailable else { usleep(2_000_000); return }
        let start = try? cgroup.stats()
        var last: UInt64 = 0
        var lastCPU = start?.cpuUsageUsec ?? 0
        var quietSince = Clock.monotonicNanoseconds()
        let deadline = quietSince + 600 * 1_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            usleep(100_000)
            guard ProcFS.isAlive(workload.pid) else { throw CleaveError.message("the command (pid \(workload.pid)) exited before it was ended") }
            let stats = try? cgroup.stats()
            let now = stats?.memoryCurrent ?? 0
            let cpu = stats?.cpuUsageUsec ?? lastCPU
            let busy = cpu > lastCPU + 20_000
            lastCPU = cpu
            if now > last + (1 << 20) || now == 0 || busy {
                if now > last + (1 << 20) || now == 0 { last = now }
                quietSince = Clock.monotonicNanoseconds()
                continue
            }
            let quiet = Clock.monotonicNanoseconds() - quietSince
            if let size, Double(now) >= 0.9 * Double(size), quiet > 500_000_000 { return }
            if quiet > 2_000_000_000 { return }
        }
        throw CleaveError.message("memory.current of \(cgroup.path) kept growing, or the command kept busy, for 600 s")
    }
}
