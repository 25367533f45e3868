import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// Runs one workload in a fresh cgroup in one teardown mode, ends it, and
/// checks the accounting at each step (the numbered checks of `cleave verify`).
struct ModeVerifier {
    let mode: TeardownMode
    let options: VerifyOptions
    let mount: CgroupMount
    let memoryAvailable: Bool

    /// The process memory after the teardown may keep a little (page tables
    /// freed lazily, kernel objects): allow 8 MiB or 3 % of the reference.
    private func margin(_ reference: Double) -> Double { max(8 * 1_048_576, 0.03 * reference) }
    /// What the allocation is checked against: the probe's size, or a command's
    /// --size; nil for a command without one (then what it had charged).
    private var size: UInt64? { options.command == nil ? options.probeSize : options.size }
    /// Below this a command "allocated nothing": the noise of a small program.
    private static let minimumCharge = 1.0 * 1_048_576
    /// Usage from which cpu.stat's user/system split (tick-sampled) must show system time:
    /// 50 ms is 5 ticks at HZ=100, 12 at 250.
    static let tickSampledSplitUsec = 50_000.0

    func run() throws -> ModeReport {
        var readings = [Reading]()
        var checks = [Check]()
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let cgroup = try Cgroup(mount: mount, path: "\(options.parent)/\(mode.rawValue)-\(id)")
        _ = try CgroupSetup.prepare(cgroup, limits: ResourceLimits(), mount: mount)
        var extraCgroups = [Cgroup]()
        defer {
            for extra in extraCgroups.reversed() { try? extra.remove(killFirst: true, timeout: .seconds(10)) }
            try? cgroup.remove(killFirst: true, timeout: .seconds(10))
            if let parent = cgroup.parentCgroup, (try? parent.children().isEmpty) == true { try? parent.remove() }
            ChildReaper.reapAll()
        }
        func memory(_ s: CgroupStats?) -> Double? { s?.memoryCurrent.map { Double($0) } }
        func process(_ m: MemoryBreakdown?) -> Double? { m.map { Double($0.process) } }
        let processWhat = "process memory (memory.stat \(MemoryBreakdown.processDescription))"
        func check(_ id: String, _ what: String, expected: String, observed: String, _ ok: Bool?) {
            checks.append(Check(id: id, description: what, expected: expected, observed: observed,
                                status: ok.map { $0 ? .pass : .fail } ?? .unavailable))
        }
        let noMemory = "unavailable: no memory controller in the cgroup2 hierarchy at \(mount.mountPoint)"

        let baseline = try cgroup.stats()
        let baselineSplit = try MemoryBreakdown.read(cgroup)
        readings.append(Reading("memory.current.baseline", memory(baseline), "bytes"))
        readings.append(Reading("memory.process.baseline", process(baselineSplit), "bytes",
                                note: "memory.stat \(MemoryBreakdown.processDescription): what a teardown frees"))

        options.progress("\(mode.rawValue): starting the workload in \(cgroup.path)")
        let workload = try WorkloadLauncher.start(mode: mode, options: options, cgroup: cgroup,
                                                  memoryAvailable: memoryAvailable)
        defer { Glibc.close(workload.spawned.pidfd) }
        let pid = workload.spawned.pid

        // 1. The allocation is charged before the end. The reference for the
        // later checks is --size when given (always for the probe), else what
        // the command really had charged.
        let before = try cgroup.stats()
        let beforeSplit = try MemoryBreakdown.read(cgroup)
        readings.append(Reading("memory.current.before_end", memory(before), "bytes"))
        readings.append(Reading("memory.stat.anon.before_end", before.anon.map { Double($0) }, "bytes"))
        readings.append(Reading("memory.process.before_end", process(beforeSplit), "bytes"))
        readings.append(Reading("memory.cache.before_end", beforeSplit.map { Double($0.cache) }, "bytes",
                                note: "memory.stat \(MemoryBreakdown.cacheDescription): page cache and reclaimable slab"))
        let charged = (process(beforeSplit) ?? 0) - (process(baselineSplit) ?? 0)
        let reference = size.map { Double($0) } ?? charged
        readings.append(Reading("reference", memoryAvailable ? reference : size.map { Double($0) }, "bytes",
                                note: size == nil ? "no --size: the process memory charged before the end" : (options.command == nil ? "the probe's size" : "--size")))
        let checkOne = size == nil ? "the command has process memory charged before the end (the reference)"
                                           : "\(processWhat) covers the allocation before the end"
        if memoryAvailable, let size = size {
            check("1.memory-charged", checkOne,
                  expected: ">= \(ByteSize.format(UInt64(0.9 * Double(size)))) (90% of \(ByteSize.format(size)))",
                  observed: ByteSize.format(UInt64(max(0, charged))), charged >= 0.9 * Double(size))
        } else if memoryAvailable {
            check("1.memory-charged", checkOne, expected: ">= \(ByteSize.format(UInt64(Self.minimumCharge))) above the baseline",
                  observed: ByteSize.format(UInt64(max(0, charged))), charged >= Self.minimumCharge)
        } else {
            check("1.memory-charged", checkOne,
                  expected: size.map { ">= 90% of \(ByteSize.format($0))" } ?? "memory charged", observed: noMemory, nil)
        }

        // 2. The helper exists, is named cleanup/<pid>, and sits in the workload's cgroup.
        var helpers = options.command == nil
            ? TeardownHelpers.helpers(of: pid, among: before.processes)
            : TeardownHelpers.helpers(among: before.processes)
        switch mode {
        case .async:
            let named = helpers.map { "\($0) (\(ProcFS.comm($0) ?? "?"))" }.joined(separator: ", ")
            check("2.helper-present", "a teardown helper named cleanup/<pid> runs beside the workload",
                  expected: options.command == nil ? "1 process named cleanup/\(pid)" : "a process named cleanup/*",
                  observed: helpers.isEmpty ? "no helper" : named,
                  options.command == nil ? helpers.count == 1 : !helpers.isEmpty)
            if helpers.isEmpty && options.command != nil {
                options.progress("async: no teardown helper appeared: the program does not tear down asynchronously")
            }
        case .sync:
            check("2.no-helper", "no teardown helper in sync mode", expected: "no cleanup/* process",
                  observed: helpers.isEmpty ? "none" : "\(helpers)", helpers.isEmpty)
        }

        if let origin = workload.helperOrigin, origin.method == .injection {
            checks.append(Self.injectionCheck(origin, workload: pid, helpers: helpers))
            if let injected = origin.injected {
                readings.append(Reading("injection_pause", Double(injected.pauseMicroseconds), "usec",
                                        note: "the workload held at its exec stop while the helper was injected"))
            }
        }

        try FaultInjector.inject(options.fault, helpers: helpers, cgroup: cgroup, extra: &extraCgroups)
        if mode == .async {
            let inCgroup = helpers.map { ProcFS.cgroupPath($0) == "/" + cgroup.relativePath }
            check("2.helper-in-cgroup", "/proc/<helper>/cgroup is the workload's cgroup",
                  expected: "/" + cgroup.relativePath,
                  observed: helpers.isEmpty ? "no helper" : helpers.map { ProcFS.cgroupPath($0) ?? "gone" }.joined(separator: ", "),
                  !helpers.isEmpty && inCgroup.allSatisfy { $0 })
            helpers = helpers.filter(ProcFS.isAlive)
        }

        // Hold the helper so the post-reap reading cannot race its exit.
        let holdable = helpers.filter { ProcFS.cgroupPath($0) == "/" + cgroup.relativePath }
        let hold = mode == .async && !holdable.isEmpty ? try HeldHelpers(holdable, in: cgroup) : nil
        if let hold { extraCgroups.append(hold.cgroup) }

        options.progress("\(mode.rawValue): ending the workload (SIGKILL)")
        let signalled = Clock.monotonicNanoseconds()
        _ = workload.spawned.signal(SIGKILL)
        let status = try workload.waitForExit()
        let reaped = Clock.monotonicNanoseconds()
        let exitLatency = Double(reaped - signalled) / 1e9
        readings.append(Reading("exit_latency", exitLatency * 1000, "ms", note: "SIGKILL to reap of the workload"))
        readings.append(Reading("workload_status", Double(status.shellCode), "shell status"))

        // 3. Right after the reap.
        var after = try cgroup.stats()
        let afterSplit = try MemoryBreakdown.read(cgroup)
        // The held helpers sit in the child cgroup: count the whole subtree.
        after.processes += (try? hold?.cgroup.processes()) ?? []
        readings.append(Reading("memory.current.after_reap", memory(after), "bytes"))
        readings.append(Reading("memory.process.after_reap", process(afterSplit), "bytes"))
        readings.append(Reading("cgroup.procs.after_reap", Double(after.processes.count), "processes", note: "in the cgroup and its held/ child"))
        let cpuAfter = after.cpuSystemUsec, usageAfter = after.cpuUsageUsec
        switch mode {
        case .async:
            let held = after.processes.filter(helpers.contains).count
            let onlyHelpers = TeardownState.of(helpers: held, others: after.processes.count - held) == .tearingDown
            check("3.populated-after-reap", "the cgroup is still populated after the reap (the helper holds it)",
                  expected: "populated 1", observed: "populated \(after.populated == true ? 1 : 0)", after.populated == true)
            check("3.only-helpers-left", "cgroup.procs holds only the helper(s) after the reap",
                  expected: "\(helpers)", observed: "\(after.processes)", onlyHelpers)
            let what = "\(processWhat) is still at least 90% of its value before the end"
            if memoryAvailable, let b = process(beforeSplit), let a = process(afterSplit) {
                check("3.memory-still-charged", what,
                      expected: ">= \(ByteSize.format(UInt64(0.9 * b)))", observed: ByteSize.format(UInt64(a)), a >= 0.9 * b)
            } else {
                check("3.memory-still-charged", what, expected: ">= 90% of the value before the end", observed: noMemory, nil)
            }
        case .sync:
            if memoryAvailable, let a = process(afterSplit), let base = process(baselineSplit) {
                check("5.freed-before-reap", "the \(processWhat) is freed before the reap",
                      expected: "<= \(ByteSize.format(UInt64(base + margin(reference)))) (baseline + margin)",
                      observed: ByteSize.format(UInt64(a)), a <= base + margin(reference))
            } else {
                check("5.freed-before-reap", "the memory is freed before the reap",
                      expected: "memory.current back at baseline at the reap", observed: noMemory, nil)
            }
        }

        // 4. Let the helper go and wait for the cgroup to empty.
        let released = Clock.monotonicNanoseconds()
        try hold?.release()
        var emptied: Bool
        var workers: [Int32] = []
        if mode == .async {
            (emptied, workers) = try ReleaseWorkerWatch.waitUntilEmpty(cgroup, helpers: holdable, timeout: options.teardownTimeout)
        } else {
            emptied = try cgroup.waitUntilEmpty(timeout: options.teardownTimeout)
        }
        let gone = Clock.monotonicNanoseconds()
        let teardown = Double(gone - released) / 1e9
        let final = try cgroup.stats()
        let finalSplit = try MemoryBreakdown.read(cgroup)
        if mode == .async {
            readings.append(Reading("teardown_duration", teardown * 1000, "ms",
                                    note: "from the helper's release (held frozen across the reap) to cgroup.events populated 0"))
        }
        readings.append(Reading("memory.current.final", memory(final), "bytes"))
        readings.append(Reading("memory.process.final", process(finalSplit), "bytes"))
        readings.append(Reading("memory.cache.final", finalSplit.map { Double($0.cache) }, "bytes",
                                note: "page cache and reclaimable slab of the files the program mapped or read: no process holds it, it stays charged until reclaimed or the cgroup is removed; not the teardown's to free"))
        readings.append(Reading("memory.peak", final.memoryPeak.map { Double($0) }, "bytes"))
        let systemDelta = final.cpuSystemUsec.flatMap { a in cpuAfter.map { Double(a) - Double($0) } }
        let usageDelta = final.cpuUsageUsec.flatMap { a in usageAfter.map { Double(a) - Double($0) } }
        readings.append(Reading("cpu.stat.system_usec.teardown", systemDelta, "usec", note: "growth from the reap to the end of the teardown"))
        readings.append(Reading("cpu.stat.usage_usec.teardown", usageDelta, "usec"))
        readings.append(Reading("cpu.stat.system_usec.total", final.cpuSystemUsec.map { Double($0) }, "usec"))

        if mode == .async {
            readings.append(Reading("teardown_workers_seen", Double(workers.count), "processes",
                                    note: "the parallel release's workers: children of the helper named like it, sampled every ms"))
            // Below 64 MiB of candidate mappings the helper frees alone (release_workers.c).
            if let n = options.teardownWorkers, n > 1, reference >= Double(64 << 20) {
                check("4.release-workers", "the helper freed with \(n - 1) worker(s) of its own, in this cgroup (their CPU time is in cpu.stat)",
                      expected: "\(n - 1) worker(s) named like the helper", observed: "\(workers.count): \(workers)", workers.count == n - 1)
            }
        }
        check("4.populated-0", "the cgroup empties once the helper is gone", expected: "populated 0 within \(options.teardownTimeout.seconds) s",
              observed: emptied ? "populated 0" : "still populated", emptied)
        let releasedWhat = "the \(processWhat) is back near the baseline (the file cache is a separate reading)"
        if memoryAvailable, let f = process(finalSplit), let base = process(baselineSplit) {
            check("4.memory-released", releasedWhat,
                  expected: "<= \(ByteSize.format(UInt64(base + margin(reference)))) (baseline \(ByteSize.format(UInt64(base))) + margin)",
                  observed: ByteSize.format(UInt64(f)), f <= base + margin(reference))
        } else {
            check("4.memory-released", releasedWhat, expected: "baseline + margin", observed: noMemory, nil)
        }
        if mode == .async {
            let wallUsec = teardown * 1e6
            // The wall time also holds the thaw, the inotify wake-up and, on a
            // busy machine, waiting for a CPU; the CPU time does not stretch.
            // Require the smaller of half the wall time (less 5 ms) and 1 ms
            // per 64 MiB freed (at most 2 ms): far above the ~0 this cgroup
            // gains when the freeing is charged elsewhere.
            let perSize = min(2000, 1000 * max(0, reference) / Double(64 << 20))
            let cpuFloor = min(max(0, 0.5 * wallUsec - 5000), perSize)
            if let s = systemDelta, let u = usageDelta {
                // usage_usec is the scheduler's exact runtime; the user/system split is sampled at
                // the tick and scaled to it, so a teardown of a few milliseconds may show no system
                // time at all (seen: +0 against usage +3171). The split is asked for only where
                // it holds many ticks.
                let splitHolds = u >= Self.tickSampledSplitUsec
                check("4.teardown-cpu-charged", "the teardown's CPU time is charged to this cgroup (cpu.stat)",
                      expected: "usage_usec grows by >= \(Int(cpuFloor)) usec (teardown took \(Int(wallUsec)) usec of wall time)"
                          + (splitHolds ? ", system_usec grows" : "; system_usec not judged below \(Self.tickSampledSplitUsec / 1000) ms of usage"),
                      observed: "system_usec +\(Int(s)), usage_usec +\(Int(u))", u >= cpuFloor && (s > 0 || !splitHolds))
            } else {
                check("4.teardown-cpu-charged", "the teardown's CPU time is charged to this cgroup (cpu.stat)",
                      expected: "cpu.stat readable", observed: "cpu.stat missing", nil)
            }
        }
        return ModeReport(mode: mode.rawValue, cgroup: cgroup.path, workloadPid: pid, helperPids: helpers,
                          helper: workload.helperOrigin,
                          readings: readings, checks: checks,
                          method: mode == .async
                              ? "helper moved to a child cgroup and frozen (cgroup.freeze) before SIGKILL of the workload; read after the reap; then thawed"
                              : "no helper; read right after the reap",
                          verdict: .combine(checks.map(\.status)))
    }
}
