import Glibc

/// posix_spawn attributes for a child that must not inherit cleave's signal
/// state: the supervisor blocks the forwarded signals and may ignore SIGPIPE.
struct CleanSpawnAttributes {
    var attr = posix_spawnattr_t()

    init(newSession: Bool) {
        posix_spawnattr_init(&attr)
        // 0x80 is POSIX_SPAWN_SETSID (glibc 2.26), not exported to Swift.
        let flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | (newSession ? 0x80 : 0)
        posix_spawnattr_setflags(&attr, Int16(flags))
        var empty = sigset_t(); sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t(); sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
    }

    mutating func destroy() { posix_spawnattr_destroy(&attr) }
}
