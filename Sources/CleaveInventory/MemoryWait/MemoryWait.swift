import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// `cleave run --wait-memory SIZE` and `cleave wait-memory SIZE`: before a big workload starts,
/// wait until SIZE fits below its parent cgroup and on the node while teardowns are still
/// giving memory back. Waits only while something is releasing: when nothing is, waiting
/// would not help, and it fails at once.
package struct MemoryWait {
    package struct Outcome: Codable, Sendable {
        package var size: UInt64
        package var available: UInt64
        package var headroom: MemoryHeadroom
        package var pending: PendingRelease
        package var waitedSeconds: Double
        /// Why SIZE was not had (timeout, or nothing releasing); nil when it was.
        package var failure: String?
    }

    package var size: UInt64
    package var timeout: Duration
    /// Where the new workload's cgroup will be created: SIZE must fit here and above.
    package var parent: Cgroup
    /// The parent whose record-less cgroups count as releasing too (as `cleave ps --parent`).
    package var listParent: String
    package var stateDirectory = RunState.directory
    package var meminfo = "/proc/meminfo"
    package var progress = WaitProgress.forStderr()
    /// memory.current changes do not notify: re-read at this interval besides cgroup.events.
    package var rereadInterval: Duration = .milliseconds(500)
    /// The option named in messages ("--wait-memory" or "wait-memory").
    package var option = "--wait-memory"

    package init(size: UInt64, timeout: Duration, parent: Cgroup, listParent: String) {
        self.size = size
        self.timeout = timeout
        self.parent = parent
        self.listParent = listParent
    }

    /// For `cleave run`: the parent of the cgroup the run will create.
    package init(request: RunRequest, mount: CgroupMount) throws {
        guard let wait = request.memoryWait else { throw CleaveError.message("no --wait-memory given") }
        let target = try Cgroup(mount: mount, path: request.cgroupPath ?? request.cgroupParent + "/new")
        let parent = target.parentCgroup ?? target
        self.init(size: wait.size, timeout: wait.timeout, parent: parent, listParent: request.cgroupParent)
    }

    /// Returns once SIZE is available; throws CleaveError (exit 125) at the timeout, or at once
    /// when SIZE is not available and no teardown is releasing memory.
    package func wait() throws -> Outcome {
        let outcome = try evaluate()
        if let failure = outcome.failure { throw CleaveError.message(failure) }
        return outcome
    }

    /// As wait(), with a timeout or a hopeless wait returned in `failure` instead of thrown
    /// (for `cleave wait-memory --json`); still throws on errors reading the cgroups.
    package func evaluate() throws -> Outcome {
        let start = Clock.monotonicNanoseconds()
        let deadline = Clock.deadline(after: timeout)
        let inotify: Inotify
        do { inotify = try Inotify() } catch let error as SystemError {
            throw CleaveError.system(context: "\(option): inotify_init1", error)
        }
        var watched = Set<String>()
        var rate = ReleaseRate()
        var progress = self.progress
        while true {
            let headroom = try readHeadroom()
            let now = Clock.monotonicNanoseconds()
            let waited = Double(now - start) / 1e9
            let pending = try readPending()
            var outcome = Outcome(size: size, available: headroom.available, headroom: headroom,
                                  pending: pending, waitedSeconds: waited)
            if headroom.available >= size {
                progress.finish(waited > 0.05 ? "\(ByteSize.format(size)) available after \(Self.seconds(waited))" : nil)
                return outcome
            }
            if pending.cgroups.isEmpty {
                progress.finish(nil)
                outcome.failure = "\(option) \(ByteSize.format(size)): \(describe(headroom)), and no teardown is releasing memory: waiting would not help"
                return outcome
            }
            if now >= deadline {
                progress.finish(nil)
                outcome.failure = "\(option) \(ByteSize.format(size)): timed out after \(Self.seconds(waited)): "
                    + "\(describe(headroom)); \(pending.summary) still pending release"
                return outcome
            }
            rate.add(bytes: pending.bytes, atNanoseconds: now)
            progress.update(WaitProgress.line(size: size, available: headroom.available, pending: pending, rate: rate),
                            nowNanoseconds: now)
            // A teardown's cgroup.events changes (populated 1 -> 0) the moment its helper is gone.
            for path in pending.cgroups where !watched.contains(path) {
                if (try? inotify.addWatch(path + "/cgroup.events", mask: UInt32(IN_MODIFY))) != nil { watched.insert(path) }
            }
            let slice = min(deadline - now, rereadInterval.nanosecondsSaturating)
            var pfd = pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0)
            let n = poll(&pfd, 1, Int32(slice / 1_000_000 + 1))
            if n < 0 && errno != EINTR {
                throw CleaveError.system(context: "\(option): poll", SystemError("poll"))
            }
            if n > 0 { _ = inotify.readEvents() }
        }
    }

    private func readHeadroom() throws -> MemoryHeadroom {
        do { return try MemoryHeadroom.read(below: parent, meminfo: meminfo) } catch {
            throw CleaveError.wrapped(context: "\(option)", error)
        }
    }

    private func readPending() throws -> PendingRelease {
        do { return try PendingRelease.read(parent: listParent, mount: parent.mount, stateDirectory: stateDirectory) } catch {
            throw CleaveError.wrapped(context: "\(option)", error)
        }
    }

    /// "only 300.0 MiB available (cgroup /sys/fs/cgroup/vms: 300.0 MiB, node: 3.1 GiB)"
    func describe(_ headroom: MemoryHeadroom) -> String {
        var parts = [String]()
        if let h = headroom.cgroupHeadroom { parts.append("cgroup \(headroom.limitingCgroup ?? "?"): \(ByteSize.format(h))") }
        if let n = headroom.nodeAvailable { parts.append("node MemAvailable: \(ByteSize.format(n))") }
        return "only \(WaitProgress.formatAvailable(headroom.available)) available (\(parts.joined(separator: ", ")))"
    }

    static func seconds(_ s: Double) -> String { s < 10 ? "\((s * 10).rounded() / 10) s" : "\(Int(s.rounded())) s" }
}
