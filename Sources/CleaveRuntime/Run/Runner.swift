import CleaveCgroups
import CCleaveSystem
import Glibc
import Logging
import CCleaveContract
import CleaveSystem

/// `cleave run`: creates the cgroup, starts the workload inside it, forwards
/// signals, relays the exit status, and leaves the teardown to the helper and
/// a detached watcher so control returns the moment the workload is reaped.
public struct Runner {
    public let request: RunRequest
    public var logger: Logger
    public var events = EventLog.fromEnvironment()

    public init(request: RunRequest, logger: Logger = Logger(label: "cleave")) {
        self.request = request
        self.logger = logger
    }

    /// Runs the workload to its end and returns the exit code for cleave.
    public func run() throws -> Int32 {
        // Block the forwarded signals before anything can start a thread.
        let supervisor = try Supervisor()
        defer { supervisor.close() }

        guard let commandName = request.command.first else {
            throw CleaveError.message("no command given: use cleave run [OPTIONS] -- COMMAND [ARGS...]")
        }
        try request.limits.validate()
        var environment = request.environment ?? EnvironmentList.current()
        let executable = try CommandResolver.resolve(commandName, path: environment["PATH"])

        let mount = try CgroupMount.discover()
        let identity = RunIdentity(request: request)
        let cgroup = try placement(mount: mount, identity: identity)
        // The record names the owner before the cgroup exists, so `cleave gc` never takes a
        // cgroup that is being set up for an orphan.
        let me = getpid()
        var state = RunState(id: identity.id, name: identity.name, cgroup: cgroup.path, teardown: request.teardown,
                             status: .created, createdAt: Clock.wallSeconds())
        state.supervisorPid = me
        state.supervisorStartTime = ProcFS.startTime(me)
        state.keepCgroup = request.keepCgroup ? true : nil
        let record = RunState.recordPath(id: identity.id, supervisorPid: me)
        try StateDirectory.prepare(RunState.directory)
        // The lock is the run's ownership (see OwnerLock): held before anything exists,
        // released by the kernel however this process ends, handed to the watcher.
        let lock = try OwnerLock.acquire(RunState.absolute(RunState.lockPath(forRecord: record)))
        var lockHandedOver = false
        defer {
            if !lockHandedOver { unlink(lock.path) }
            lock.release()
        }
        try state.write(to: record)
        var keepRecord = false
        defer { if !keepRecord { unlink(record) } }
        // mkdir and claim under one lock shared by every run: a run that made the cgroup is
        // the one that claims it, never one that found it existing a moment later.
        let setupLock = try OwnerLock.acquire(RunState.directory + "/cgroup-setup.lock")
        let setup: CgroupSetup.Placement
        do {
            defer { setupLock.release() }
            setup = try CgroupSetup.prepare(cgroup, limits: request.limits, mount: mount,
                                                lock: lock.path, keep: request.keepCgroup)
        }
        // From here on every failure must undo exactly what we made.
        var cleanupOnFailure = true
        defer { if cleanupOnFailure { setup.undo() } }

        // A program LD_PRELOAD cannot reach gets its helper by injection at exec (ExecInjection).
        let kind = ExecutableKind.of(path: executable, uid: request.settings.user?.uid ?? getuid(),
                                     gid: request.settings.user?.gid ?? getgid(),
                                     noNewPrivileges: request.settings.noNewPrivileges)
        let inject = request.teardown == .async && (request.inject || kind.needsInjection)
        // LD_PRELOAD serves the programs it may exec as well: a static launcher (gosu, su-exec)
        // exec'ing a dynamic server keeps a helper, the injected one leaving at the exec. It is
        // left out only with --inject, which asks for the injected helper alone.
        if request.teardown == .async && !request.inject {
            // A bundle's environment is the workload's own: look in cleave's too.
            if let library = TeardownLibrary.locate(environment: environment)
                ?? TeardownLibrary.locate(environment: EnvironmentList.current()) {
                environment["LD_PRELOAD"] = EnvironmentList.preloadValue(adding: library, to: environment["LD_PRELOAD"])
                environment[CLEAVE_ENV_TEARDOWN] = nil
                if let workers = request.teardownWorkers {
                    environment[CLEAVE_ENV_TEARDOWN_WORKERS] = String(workers)
                }
            } else if !inject {
                Console.warning("\(TeardownLibrary.fileName) not found (set \(CLEAVE_ENV_TEARDOWN_LIBRARY)); running with synchronous teardown")
            }
        }

        // The record already holds this state (written before the mkdir): only --state-file.
        try writeState(state, record: nil)

        let directory = try cgroup.openDirectory()
        let spawnRequest = WorkloadSpawner.Request(
            executable: executable, arguments: request.command, environment: environment.strings,
            cgroupDirectory: directory.rawValue, cgroupProcsPath: cgroup.path + "/cgroup.procs",
            settings: request.settings, pidEnvironmentName: CLEAVE_ENV_TEARDOWN_PID,
            forceFallback: request.forceFallbackSpawn)
        let workload: SpawnedWorkload
        do {
            defer { try? directory.close() }
            if request.hooks != nil || inject {
                workload = try startWithHooks(spawnRequest, hooks: request.hooks, inject: inject, state: &state, record: record)
            } else {
                workload = try WorkloadSpawner.spawn(spawnRequest)
            }
        } catch let failure as SpawnFailure {
            throw CommandResolver.failure(failure, command: commandName)
        }
        defer { Glibc.close(workload.pidfd) }
        // From here cleave only wakes to forward a signal or to return the status, each a few
        // hundred microseconds of work that the manager waits for; at the workload's death the
        // helper, woken by the same event, may be on the same CPU. A short EEVDF slice (Linux
        // 6.12) lets cleave run first instead of after the helper's slice (2 ms seen on this
        // project's machines). Its share of CPU time is unchanged; older kernels ignore it.
        _ = cleave_set_fair_slice(Self.supervisorSliceNanoseconds)
        startExitKeeper()
        logger.debug("started", metadata: ["pid": "\(workload.pid)", "cgroup": "\(cgroup.path)",
                                           "clone3": "\(workload.placedAtomically)"])
        state.pid = workload.pid
        state.pidStartTime = ProcFS.startTime(workload.pid)
        state.status = .running
        state.startedAt = Clock.wallSeconds()
        try writeState(state, record: record)
        try? request.hooks?.run(.poststart, pid: workload.pid)

        var warnedFrozen = false
        let onSignal = { (sig: Int32) in
            // A frozen workload takes no signal until it is thawed (SIGKILL excepted): say why nothing happens.
            if !warnedFrozen && Self.isFrozen(cgroup) {
                warnedFrozen = true
                Console.warning("cgroup \(cgroup.path) is frozen (cgroup.freeze set outside cleave): signal \(sig) reaches the workload only once it is thawed")
            }
        }
        // A workload that outlives a short wait gets its teardown watcher now (StandbyWatcher), so
        // that after the reap cleave only writes the status and hands the run over.
        var standby: StandbyWatcher?
        var exited = try supervisor.waitForExit(of: workload, withinMilliseconds: request.teardown == .async ? StandbyWatcher.delayMilliseconds : -1, onSignal: onSignal)
        if exited == nil {
            standby = startStandby(setup, workload: workload.pid, record: record)
            exited = try supervisor.waitForExit(of: workload, withinMilliseconds: -1, onSignal: onSignal)
        }
        guard let status = exited else { throw CleaveError.message("waiting for the workload ended without its status") }
        state.exitedAt = Clock.wallSeconds()
        state.status = .stopped
        cleanupOnFailure = false
        if let standby {
            if handOver(to: standby, status: status, state: &state, record: record, cgroup: cgroup, lock: lock) {
                lockHandedOver = true
                keepRecord = true
                try? request.hooks?.run(.poststop, pid: nil)
                return status.shellCode
            }
            standby.dismiss()
        }

        let stats = try? cgroup.exitStats()
        let oomKilled = (stats?.oomKill ?? 0) > 0
        if oomKilled, case .signaled(SIGKILL) = status {
            Console.error("the workload was killed by the kernel's OOM killer (memory.events oom_kill \(stats?.oomKill ?? 0), memory.max \(request.limits.memoryMax?.description ?? "unset"))")
        }
        switch status {
        case .exited(let code): state.exitCode = code
        case .signaled(let sig): state.signal = sig; state.exitCode = status.shellCode
        }
        // One read of cgroup.events says whether it is gone, frozen, or still populated (a helper).
        let events = try? cgroup.read("cgroup.events")
        // Someone else may have removed or frozen the cgroup meanwhile: say so; never wait on it.
        if events == nil && !cgroup.exists {
            Console.warning("cgroup \(cgroup.path) was removed during the run, not by cleave")
        } else if let events, (try? StatParsers.flatKeyedValue("frozen", in: events)) == 1 {
            Console.warning("cgroup \(cgroup.path) is frozen (cgroup.freeze set outside cleave): its teardown cannot finish until it is thawed; the watcher kills it after --teardown-timeout (\(request.teardownTimeout.seconds) s)")
        }
        state.oomKilled = stats?.oomKill.map { $0 > 0 }
        state.helperPids = TeardownHelpers.helpers(of: workload.pid, among: stats?.processes ?? [])
        // The record stays while someone may still act on the cgroup: the watcher removes it
        // when the teardown ends, and a kept cgroup keeps it (gc leaves both alone). A cgroup
        // removed right now takes its record with it: that one is not rewritten first.
        var populated = events.flatMap { try? StatParsers.flatKeyedValue("populated", in: $0) } == 1
        // A workload that ended before its standby watcher was due had little memory: its
        // helper, woken by the same death, is usually gone within a fraction of a millisecond.
        // Waiting that long for it (never more than helperGrace) spares the run a watcher
        // process (a whole cleave started in the background) that would only see it go.
        if populated && standby == nil && !state.helperPids.isEmpty
            && state.helperPids.count == stats?.processes.count
            && TeardownHelpers.waitForExit(of: state.helperPids, within: Self.helperGrace) {
            populated = (try? cgroup.isPopulated()) ?? true
        }
        if populated || request.keepCgroup || !setup.owned { try? writeState(state, record: record) }
        let finish = finishTeardown(setup, populated: populated, state: &state, record: record, lock: lock)
        lockHandedOver = finish.watcher
        keepRecord = finish.keepRecord || request.keepCgroup
        try? request.hooks?.run(.poststop, pid: nil)
        return status.shellCode
    }

    /// OCI create then start: the workload waits before exec while the create hooks see its
    /// pid in its cgroup; a failing hook abandons it (it never runs) and the start fails.
    private func startWithHooks(_ spawnRequest: WorkloadSpawner.Request, hooks: LifecycleHooks?, inject: Bool,
                                state: inout RunState, record: String) throws -> SpawnedWorkload {
        let held = try WorkloadSpawner.spawnHeld(spawnRequest)
        let pid = held.workload.pid
        do {
            state.pid = pid
            state.pidStartTime = ProcFS.startTime(pid)
            try writeState(state, record: record)
            for stage in [LifecycleHooks.Stage.prestart, .createRuntime, .createContainer, .startContainer] {
                try hooks?.run(stage, pid: pid)
            }
        } catch {
            held.abandon()
            _ = try? held.workload.waitForExit()
            Glibc.close(held.workload.pidfd)
            throw error
        }
        if inject {
            if let helper = try HelperInjector.startInjected(held, workers: request.teardownWorkers) {
                logger.debug("injected helper", metadata: ["helper": "\(helper.helper)", "pause_us": "\(helper.pauseMicroseconds)"])
            }
        } else {
            try held.release()
        }
        return held.workload
    }

    /// The supervisor's EEVDF slice once the workload runs: the kernel's shortest (0.1 ms).
    package static let supervisorSliceNanoseconds: UInt64 = 100_000
    /// How long a short run waits for its helper before starting a watcher for it.
    package static let helperGrace: Duration = .milliseconds(2)

    package static func isFrozen(_ cgroup: Cgroup) -> Bool {
        guard let text = try? cgroup.read("cgroup.events") else { return false }
        return (try? StatParsers.flatKeyedValue("frozen", in: text)) == 1
    }

    private func placement(mount: CgroupMount, identity: RunIdentity) throws -> Cgroup {
        let path = request.cgroupPath ?? "\(request.cgroupParent)/\(identity.name)-\(identity.shortID)"
        let cgroup = try Cgroup(mount: mount, path: path)
        guard !cgroup.relativePath.isEmpty else {
            throw CleaveError.message("--cgroup: refusing the root of the cgroup2 hierarchy (\(mount.mountPoint)); name a cgroup below it")
        }
        if cgroup.exists, let procs = try? cgroup.processes(), !procs.isEmpty {
            throw CleaveError.message("cgroup \(cgroup.path) already holds \(procs.count) process(es) (\(procs.prefix(5).map(String.init).joined(separator: ", "))); choose another --cgroup")
        }
        return cgroup
    }

    /// Removes the cgroup now if it is already empty, otherwise hands it to
    /// the detached watcher; either way cleave returns without waiting.
    /// keepRecord: the run's record must stay (the watcher or `cleave gc` removes it);
    /// watcher: a watcher was started and holds the run's lock from now on.
    private func finishTeardown(_ placement: CgroupSetup.Placement, populated: Bool, state: inout RunState, record: String,
                                lock: OwnerLock) -> (keepRecord: Bool, watcher: Bool) {
        let cgroup = placement.cgroup
        if !populated {
            if request.keepCgroup || !placement.owned {
                placement.releaseMark()
            } else {
                do {
                    try cgroup.remove(killFirst: false, timeout: .seconds(2))
                    state.status = .removed
                    state.cgroupRemovedAt = Clock.wallSeconds()
                    try? writeState(state, record: nil)
                } catch {
                    Console.warning("could not remove cgroup \(cgroup.path): \(error); it is left for 'cleave gc'")
                    try? writeState(state, record: record)
                    return (true, false)
                }
            }
            return (false, false)
        }
        do {
            var options = TeardownWatcher.Options(cgroupPath: cgroup.path, timeout: request.teardownTimeout,
                                                  keepCgroup: request.keepCgroup,
                                                  stateFile: request.stateFile, log: events)
            options.existing = !placement.owned
            options.mark = placement.mark
            options.record = request.keepCgroup ? nil : record
            try TeardownWatcher.launch(options, lock: lock)
            return (true, true)
        } catch {
            Console.warning("could not start the teardown watcher: \(error); cgroup \(cgroup.path) is left for 'cleave gc'")
            return (true, false)
        }
    }

    /// The --state-file (when given) and the run's record under RunState.directory.
    func writeState(_ state: RunState, record: String?) throws {
        if let record { try state.write(to: record) }
        guard let path = request.stateFile else { return }
        try state.write(to: path)
    }
}

extension String {
    package func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
