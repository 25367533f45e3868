import CCleaveSystem
import Glibc

/// The one place cleave starts a process with posix_spawn (the workload itself goes through
/// clone3 in C): the child gets a clean signal state, because the supervisor blocks the
/// signals it forwards and that mask would otherwise be inherited.
public enum ProcessSpawn {
    /// Starts `executable` (default `args[0]`) with `args`. `environment` nil passes cleave's own. `stdin` is dup'd
    /// to fd 0 (else fd 0 is inherited). `detached`: stdio on /dev/null and out of the caller's
    /// process group (see `Detachment`), so it outlives cleave and no terminal signal reaches it;
    /// `passing` becomes its fd 3 and every other descriptor from 3 up is closed in the child.
    public static func spawn(_ args: [String], executable: String? = nil, environment: [String]? = nil, stdin: Int32? = nil,
                             detached: Detachment? = nil, passing descriptor: Int32? = nil) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        switch detached {
        case nil: break
        // 0x80 is POSIX_SPAWN_SETSID (glibc 2.26), not exported to Swift.
        case .ownSession?: flags |= 0x80
        case .ownProcessGroup?:
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attr, 0)
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        var empty = sigset_t(); sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t(); sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if detached != nil {
            for fd: Int32 in 0...2 {
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
        if let descriptor { posix_spawn_file_actions_adddup2(&actions, descriptor, 3) }
        if detached != nil {
            let rc = cleave_spawn_add_closefrom(&actions, descriptor == nil ? 3 : 4)
            guard rc == 0 else { throw SystemError("closefrom", path: args[0], errno: rc) }
        }
        let argv = CStringArray(args)
        defer { argv.free() }
        var pid: pid_t = 0
        let rc: Int32
        if let environment {
            let envp = CStringArray(environment)
            defer { envp.free() }
            rc = posix_spawn(&pid, executable ?? args[0], &actions, &attr, argv.pointer, envp.pointer)
        } else {
            rc = posix_spawn(&pid, executable ?? args[0], &actions, &attr, argv.pointer, environ)
        }
        guard rc == 0 else { throw SystemError("posix_spawn", path: executable ?? args[0], errno: rc) }
        return pid
    }
}

/// How a detached process leaves its starter: either way a terminal's signals (sent to the
/// foreground process group, or to the session's leader at a hangup) do not reach it.
public enum Detachment: Sendable {
    /// A new session (setsid): nothing of the caller's is left.
    case ownSession
    /// A new process group in the caller's session. Where the kernel groups the tasks of a
    /// session for the scheduler (autogroup: tasks in the root cpu cgroup, sched_autogroup_enabled),
    /// the process then stays in the caller's group, so its SCHED_IDLE yields to the caller's
    /// tasks; in a session of its own, SCHED_IDLE only ranks it inside that session.
    case ownProcessGroup
}

/// Helper processes of cleave's own (the teardown watcher, the hook's follower).
public enum DetachedProcess {
    public static func spawn(_ args: [String], detachment: Detachment = .ownSession, passing descriptor: Int32? = nil) throws -> Int32 {
        do {
            return try ProcessSpawn.spawn(args, detached: detachment, passing: descriptor)
        } catch let error as SystemError {
            throw CleaveError.system(context: "cannot start \(args[0])" + (error.operation == "closefrom" ? ": closefrom" : ""), error)
        }
    }
}
