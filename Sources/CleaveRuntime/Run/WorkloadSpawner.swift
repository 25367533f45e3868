import CCleaveSpawn
import CCleaveSystem
import Glibc
import CleaveSystem

/// A started workload: its pid and a pidfd that stays valid even if the pid is
/// reused, so signals and waits never reach the wrong process.
public struct SpawnedWorkload: Sendable {
    public let pid: Int32
    public let pidfd: Int32
    /// true when clone3(CLONE_INTO_CGROUP) placed it; false for the
    /// fork + cgroup.procs fallback.
    public let placedAtomically: Bool
}

/// Starts a program inside a cgroup through the C target, which does
/// everything between clone and exec.
public enum WorkloadSpawner {
    public struct Request {
        public var executable: String
        public var arguments: [String]     // argv, including argv[0]
        public var environment: [String]   // "NAME=value"
        public var cgroupDirectory: Int32  // -1 for none
        public var cgroupProcsPath: String?
        public var settings: ProcessSettings
        public var pidEnvironmentName: String?
        public var forceFallback = false
        /// Descriptor to become the child's stdout; nil inherits cleave's.
        public var stdoutFD: Int32?

        public init(executable: String, arguments: [String], environment: [String], cgroupDirectory: Int32,
                    cgroupProcsPath: String?, settings: ProcessSettings, pidEnvironmentName: String?,
                    forceFallback: Bool = false) {
            self.executable = executable; self.arguments = arguments; self.environment = environment
            self.cgroupDirectory = cgroupDirectory; self.cgroupProcsPath = cgroupProcsPath
            self.settings = settings; self.pidEnvironmentName = pidEnvironmentName; self.forceFallback = forceFallback
        }
    }

    public static func spawn(_ request: Request) throws -> SpawnedWorkload {
        let result = try start(request, hold: false)
        return SpawnedWorkload(pid: result.pid, pidfd: result.pidfd, placedAtomically: result.used_clone3 != 0)
    }

    /// Starts the workload set up but stopped before execve, so hooks can see its pid and
    /// cgroup (OCI "created") before it runs; `HeldWorkload.release()` lets it exec.
    public static func spawnHeld(_ request: Request) throws -> HeldWorkload {
        HeldWorkload(result: try start(request, hold: true))
    }

    private static func start(_ request: Request, hold: Bool) throws -> cleave_spawn_result {
        let argv = CStringArray(request.arguments)
        let envp = CStringArray(request.environment)
        defer { argv.free(); envp.free() }

        let s = request.settings
        var rlimits = s.rlimits.map { cleave_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        var groups = s.user?.additionalGids ?? []
        var caps = s.capabilities.map {
            cleave_caps(set: 1, bounding: $0.bounding, effective: $0.effective, permitted: $0.permitted,
                        inheritable: $0.inheritable, ambient: $0.ambient)
        }
        var result = cleave_spawn_result()
        let rc: Int32 = request.executable.withCString { path in
            withOptionalCString(request.cgroupProcsPath) { procs in
                withOptionalCString(s.cwd) { cwd in
                    withOptionalCString(request.pidEnvironmentName) { pidEnv in
                        rlimits.withUnsafeMutableBufferPointer { rl in
                            groups.withUnsafeMutableBufferPointer { gr in
                                withOptionalPointer(&caps) { capsPtr in
                                    var req = cleave_spawn_request()
                                    req.path = path
                                    req.argv = UnsafePointer(argv.pointer)
                                    req.envp = UnsafePointer(envp.pointer)
                                    req.cgroup_fd = request.cgroupDirectory
                                    req.cgroup_procs = procs
                                    req.cwd = cwd
                                    if let user = s.user {
                                        req.set_user = 1
                                        req.uid = user.uid
                                        req.gid = user.gid
                                        req.groups = UnsafePointer(gr.baseAddress)
                                        req.ngroups = Int32(gr.count)
                                    }
                                    req.umask = s.umask.map { Int32($0) } ?? -1
                                    req.no_new_privs = s.noNewPrivileges ? 1 : 0
                                    if let adj = s.oomScoreAdj {
                                        req.set_oom_score_adj = 1
                                        req.oom_score_adj = adj
                                    }
                                    req.rlimits = UnsafePointer(rl.baseAddress)
                                    req.nrlimits = Int32(rl.count)
                                    req.caps = UnsafePointer(capsPtr)
                                    req.pid_env = pidEnv
                                    req.force_fallback = request.forceFallback ? 1 : 0
                                    req.stdout_fd = request.stdoutFD ?? -1
                                    req.hold_before_exec = hold ? 1 : 0
                                    return cleave_spawn(&req, &result)
                                }
                            }
                        }
                    }
                }
            }
        }
        if rc != 0 { throw SpawnFailure(result) }
        return result
    }
}

/// A workload that finished its set-up and waits before execve (OCI "created").
/// Exactly one of `release()` or `abandon()` must be called.
public final class HeldWorkload {
    private var result: cleave_spawn_result
    public let workload: SpawnedWorkload

    package init(result: cleave_spawn_result) {
        self.result = result
        workload = SpawnedWorkload(pid: result.pid, pidfd: result.pidfd, placedAtomically: result.used_clone3 != 0)
    }

    /// Lets it exec; throws the exec failure (the child is then reaped and its pidfd closed).
    public func release() throws {
        guard cleave_spawn_release(&result) == 0 else { throw SpawnFailure(result) }
    }

    /// Lets it exec without waiting for the outcome (a tracer waits for its exec stop);
    /// `release()` then only reads the outcome. false if it was gone.
    public func start() -> Bool {
        cleave_spawn_start(&result) == 0
    }

    /// It exits 127 without exec'ing; the caller still reaps it through `workload`.
    public func abandon() {
        cleave_spawn_abandon(&result)
    }
}

/// The step of the child's set-up that failed, with its errno.
public struct SpawnFailure: Error, CustomStringConvertible, Sendable {
    public let step: String
    public let errno: Int32

    package init(_ result: cleave_spawn_result) {
        step = result.failed_step.map { String(cString: $0) } ?? "spawn"
        errno = result.failed_errno
    }
    public var reason: String { SystemError.reason(errno) }
    public var description: String { "\(step): \(reason)" }
}

/// A NULL-terminated array of C strings that lives until `free()`.
extension SpawnedWorkload {
    /// Sends a signal through the pidfd: never reaches a recycled pid.
    @discardableResult
    public func signal(_ sig: Int32) -> Bool {
        cleave_pidfd_send_signal(pidfd, sig) == 0
    }

    /// Blocks until the workload exits and reaps it.
    public func waitForExit() throws -> ExitStatus {
        var status: Int32 = 0
        while cleave_waitid_pidfd(pidfd, &status, WEXITED) != 0 {
            guard errno == EINTR else { throw CleaveError.system(context: "waitid on pid \(pid)", SystemError("waitid")) }
        }
        return ExitStatus(waitStatus: status)
    }
}
