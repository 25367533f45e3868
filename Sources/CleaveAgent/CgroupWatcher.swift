import CCleaveSystem
import CleaveCgroups
import Glibc
import Logging
import CleaveSystem

/// Watches cgroup subtrees on a thread of its own: one inotify watch per
/// cgroup directory (IN_CREATE/IN_DELETE/IN_MOVE for child cgroups,
/// IN_MODIFY reported for the child file cgroup.events when "populated" or
/// "frozen" changes), pidfds for the few non-helper processes of cgroups
/// that may start a teardown (a workload's exit changes no cgroup file), and
/// a periodic rescan as a safety net. Scrapes never walk the tree: they read
/// the list this thread publishes in AgentState.
final class CgroupWatcher: @unchecked Sendable {
    // After start(), everything but `state` and `logger` is touched only by the watcher thread.
    private let mount: CgroupMount
    private let roots: [String]
    private let state: AgentState
    private let logger: Logger
    private let rescanNanos: UInt64
    private let procs: HelperProcesses
    private let inotify: Inotify
    private let stopFD: Int32
    private let stopWriteFD: Int32
    private var nodes: [String: Node] = [:]
    private var paths: [Int32: String] = [:]
    private var armed: [Int32: (pid: Int32, cgroup: String)] = [:]
    private var dirty: Set<String> = []
    private var watchedChanged = false
    private var needRescan = false
    private var warnedWatchLimit = false
    private var thread: pthread_t?

    private struct Node {
        var wd: Int32
        var children: Set<String> = []
        /// A process other than a helper was seen directly in this cgroup: a workload's cgroup.
        var sawWorkload = false
        /// pid -> pidfd of the non-helper processes this cgroup's teardown waits for.
        var pidfds: [Int32: Int32] = [:]
        /// Pids whose pidfd fired: gone, even while cgroup.procs may still list them.
        var exited: Set<Int32> = []
    }

    static let maxArmedPerCgroup = 16
    static let maxArmedTotal = 4096
    static let watchMask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_DELETE_SELF | IN_ONLYDIR)

    init(mount: CgroupMount, roots: [String], state: AgentState, rescanInterval: Duration, procRoot: String = "/proc",
         logger: Logger) throws {
        self.mount = mount
        self.procs = HelperProcesses(procRoot: procRoot)
        self.roots = roots
        self.state = state
        self.logger = logger
        rescanNanos = max(rescanInterval.nanosecondsSaturating, 100_000_000)
        do { inotify = try Inotify() } catch let e as SystemError { throw CleaveError.wrapped(context: "", e) }
        var pipeFDs: [Int32] = [-1, -1]
        guard cleave_pipe_cloexec(&pipeFDs) == 0 else { throw CleaveError.wrapped(context: "", SystemError("pipe2")) }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        stopFD = pipeFDs[0]
        stopWriteFD = pipeFDs[1]
    }

    // MARK: thread

    func start() throws {
        thread = try OSThread.start { [self] in loop() }
    }

    /// Stops the thread and closes every descriptor the watcher holds.
    func stop() {
        guard let tid = thread else { return }
        var one: UInt8 = 1
        _ = write(stopWriteFD, &one, 1)
        OSThread.join(tid)
        thread = nil
        for fd in armed.keys { close(fd) }
        armed.removeAll()
        close(stopFD)
        close(stopWriteFD)
    }

    private func loop() {
        rescan()
        flush()
        state.setReady()
        logger.info("watching \(nodes.count) cgroups", metadata: ["roots": .string(roots.map { "/" + $0 }.joined(separator: " "))])
        var nextRescan = Clock.monotonicNanoseconds() + rescanNanos
        while true {
            state.beat()
            var fds = [pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            for fd in armed.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let now = Clock.monotonicNanoseconds()
            let waitMs = nextRescan > now ? min((nextRescan - now) / 1_000_000 + 1, 1000) : 0
            if poll(&fds, nfds_t(fds.count), Int32(waitMs)) < 0 && errno != EINTR {
                logger.error("poll: \(SystemError.reason(errno))")
                usleep(100_000)
                continue
            }
            if fds[1].revents != 0 { break }
            if fds[0].revents != 0 { readEvents() }
            for pfd in fds.dropFirst(2) where pfd.revents != 0 { processExited(pidfd: pfd.fd) }
            if needRescan || Clock.monotonicNanoseconds() >= nextRescan {
                rescan()
                needRescan = false
                nextRescan = Clock.monotonicNanoseconds() + rescanNanos
            }
            flush()
            for r in state.markTimeouts() {
                logger.warning("teardown is taking longer than the timeout", metadata: ["cgroup": .string(r.cgroup)])
            }
        }
    }

    // MARK: inotify

    private func readEvents() {
        for e in inotify.readEvents() { handle(wd: e.wd, mask: e.mask, name: e.name) }
    }

    private func handle(wd: Int32, mask: UInt32, name: String) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            logger.warning("inotify queue overflowed; rescanning")
            needRescan = true
            return
        }
        guard let path = paths[wd] else { return }
        if mask & UInt32(IN_IGNORED | IN_DELETE_SELF) != 0 { removeTree(path); return }
        if mask & UInt32(IN_ISDIR) != 0 {
            let child = Self.join(path, name)
            if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { addTree(child) }
            if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 { removeTree(child) }
            return
        }
        if mask & UInt32(IN_MODIFY) != 0 && name == "cgroup.events" {
            // populated is hierarchical: an ancestor's teardown may have begun or ended.
            var p: String? = path
            while let current = p, nodes[current] != nil { dirty.insert(current); p = Self.parent(current) }
        }
    }

    // MARK: the tree

    private func addTree(_ rel: String) {
        guard nodes[rel] == nil else { return }
        let abs = absolute(rel)
        let wd: Int32
        do { wd = try inotify.addWatch(abs, mask: Self.watchMask) } catch let error as SystemError {
            let err = error.errno
            if err == ENOSPC && !warnedWatchLimit {
                warnedWatchLimit = true
                logger.warning("inotify watch limit reached (fs.inotify.max_user_watches); further cgroups are seen only by the rescan",
                               metadata: ["cgroup": .string("/" + rel)])
            } else if err != ENOENT && err != ENOTDIR {
                logger.debug("cannot watch cgroup: \(errnoText(err))", metadata: ["cgroup": .string("/" + rel)])
            }
            return
        } catch { return }
        if let old = paths[wd], old != rel { removeTree(old) }   // renamed under us
        paths[wd] = rel
        nodes[rel] = Node(wd: wd)
        if let parent = Self.parent(rel) { nodes[parent]?.children.insert(rel) }
        watchedChanged = true
        dirty.insert(rel)
        for child in Self.childDirectories(abs) { addTree(Self.join(rel, child)) }
    }

    private func removeTree(_ rel: String) {
        guard var node = nodes.removeValue(forKey: rel) else { return }
        for child in node.children { removeTree(child) }
        if paths[node.wd] == rel {
            paths[node.wd] = nil
            inotify.removeWatch(node.wd)
        }
        disarm(&node)
        if let parent = Self.parent(rel) { nodes[parent]?.children.remove(rel) }
        // A cgroup can be removed only once empty: its teardown is over.
        if let r = state.endTeardown("/" + rel, state: .completed) { logEnd(r) }
        dirty.remove(rel)
        watchedChanged = true
    }

    /// The safety net: finds cgroups the events missed, drops vanished ones,
    /// and re-evaluates every populated cgroup (an unpopulated one has no
    /// populated descendant, so its subtree is skipped).
    private func rescan() {
        for root in roots {
            if nodes[root] == nil { addTree(root) } else { rescanTree(root) }
            markPopulated(root)
        }
    }

    private func markPopulated(_ rel: String) {
        guard let node = nodes[rel] else { return }
        if let cgroup = try? Cgroup(mount: mount, path: rel), (try? cgroup.isPopulated()) == false {
            let prefix = rel.isEmpty ? "/" : "/" + rel + "/"
            for cgroup in state.inProgressCgroups() where cgroup == "/" + rel || cgroup.hasPrefix(prefix) {
                if let r = state.endTeardown(cgroup, state: .completed) { logEnd(r) }
            }
            return
        }
        dirty.insert(rel)
        for child in node.children { markPopulated(child) }
    }

    private func rescanTree(_ rel: String) {
        let abs = absolute(rel)
        var st = stat()
        guard stat(abs, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { removeTree(rel); return }
        let onDisk = Set(Self.childDirectories(abs).map { Self.join(rel, $0) })
        for child in nodes[rel]?.children ?? [] where !onDisk.contains(child) { removeTree(child) }
        for child in onDisk {
            if nodes[child] == nil { addTree(child) } else { rescanTree(child) }
        }
    }

    /// Evaluates the changed cgroups, shallow ones first (a teardown is
    /// reported at the topmost cgroup holding only helpers), then publishes.
    private func flush() {
        var rounds = 0
        while !dirty.isEmpty && rounds < 4 {
            let batch = dirty.sorted { Self.depth($0) < Self.depth($1) }
            dirty.removeAll()
            for rel in batch { evaluate(rel) }
            rounds += 1
        }
        if watchedChanged {
            state.publishWatched(Array(nodes.keys), roots: roots)
            watchedChanged = false
        }
    }

    // MARK: teardown recognition

    private func processExited(pidfd fd: Int32) {
        guard let (pid, rel) = armed.removeValue(forKey: fd) else { return }
        close(fd)
        nodes[rel]?.pidfds[pid] = nil
        nodes[rel]?.exited.insert(pid)
        dirty.insert(rel)
    }

    /// A cgroup is in teardown when it is populated, every live process in
    /// it and below it is a helper, and it is a workload's cgroup (a
    /// non-helper was seen in it), or it holds a helper directly whose
    /// workload is gone; and no ancestor is already in teardown.
    private func evaluate(_ rel: String) {
        guard !rel.isEmpty, var node = nodes[rel], let cgroup = try? Cgroup(mount: mount, path: rel) else { return }
        defer { nodes[rel] = node }
        let label = "/" + rel
        guard let populated = try? cgroup.isPopulated() else { return }
        guard populated else {
            disarm(&node)
            node.exited.removeAll()
            if let r = state.endTeardown(label, state: .completed) { logEnd(r) }
            return
        }
        var listed = Set<Int32>()
        var helpers = [Int32](), helperNames = [String](), others = [Int32]()
        func classify(_ c: Cgroup) {
            let pids = (try? c.processes()) ?? []
            listed.formUnion(pids)
            var names = [Int32: String]()
            let sorted = TeardownState.classify(pids.filter { !node.exited.contains($0) }) { pid in
                let name = procs.comm(pid); names[pid] = name; return name
            }
            helpers += sorted.helpers; others += sorted.others
            helperNames += sorted.helpers.compactMap { names[$0] }
        }
        classify(cgroup)
        if !others.isEmpty { node.sawWorkload = true }
        guard node.sawWorkload || !helpers.isEmpty else { disarm(&node); return }
        for d in descendants(rel) { if let c = try? Cgroup(mount: mount, path: d) { classify(c) } }
        node.exited.formIntersection(listed)

        guard TeardownState.of(helpers: helpers.count, others: others.count) == .tearingDown else {
            if !others.isEmpty, let r = state.endTeardown(label, state: .aborted) { logEnd(r) }
            arm(&node, rel: rel, pids: others)
            return
        }
        disarm(&node)
        if state.isInTeardown(label) { return }
        if !node.sawWorkload,
           helperNames.contains(where: { TeardownHelpers.workloadPid(fromComm: $0).map(procs.isRunning) ?? false }) {
            return   // a helper parked here while its workload still runs elsewhere
        }
        var p = Self.parent(rel)
        while let a = p { if state.isInTeardown("/" + a) { return }; p = Self.parent(a) }
        for d in descendants(rel) { state.dropTeardown("/" + d) }
        let memory = CgroupReadings.singleValue(cgroup, "memory.current")
        state.beginTeardown(TeardownRecord(cgroup: label, helpers: helpers.sorted(), beganAt: Clock.wallSeconds(),
                                           beganMonotonicNanos: Clock.monotonicNanoseconds(), memoryAtBeginBytes: memory))
        logger.info("teardown began", metadata: ["cgroup": .string(label), "helpers": .string(helpers.map(String.init).joined(separator: ",")),
                                                  "memory_bytes": .string(memory.map(String.init) ?? "unknown")])
    }

    private func arm(_ node: inout Node, rel: String, pids: [Int32]) {
        guard pids.count <= Self.maxArmedPerCgroup else { disarm(&node); return }   // the rescan covers big cgroups
        let wanted = Set(pids)
        for (pid, fd) in node.pidfds where !wanted.contains(pid) {
            close(fd); armed[fd] = nil; node.pidfds[pid] = nil
        }
        for pid in pids where node.pidfds[pid] == nil {
            guard armed.count < Self.maxArmedTotal else { break }
            let fd = cleave_pidfd_open(pid)
            if fd >= 0 {
                node.pidfds[pid] = fd
                armed[fd] = (pid, rel)
            } else if errno == ESRCH {
                node.exited.insert(pid)
                dirty.insert(rel)
            }
        }
    }

    private func disarm(_ node: inout Node) {
        for fd in node.pidfds.values { close(fd); armed[fd] = nil }
        node.pidfds.removeAll()
    }

    private func logEnd(_ r: TeardownRecord) {
        logger.info("teardown \(r.state == .completed ? "finished" : "aborted")",
                    metadata: ["cgroup": .string(r.cgroup), "duration_seconds": .string(String(r.durationSeconds ?? 0))])
    }

    private func descendants(_ rel: String) -> [String] {
        var out = [String](), stack = Array(nodes[rel]?.children ?? [])
        while let d = stack.popLast() {
            out.append(d)
            stack.append(contentsOf: nodes[d]?.children ?? [])
        }
        return out
    }

    // MARK: paths

    private func absolute(_ rel: String) -> String { rel.isEmpty ? mount.mountPoint : mount.mountPoint + "/" + rel }
    static func join(_ rel: String, _ name: String) -> String { rel.isEmpty ? name : rel + "/" + name }
    static func parent(_ rel: String) -> String? {
        guard !rel.isEmpty else { return nil }
        return rel.lastIndex(of: "/").map { String(rel[..<$0]) } ?? ""
    }
    static func depth(_ rel: String) -> Int { rel.isEmpty ? 0 : rel.utf8.reduce(1) { $0 + ($1 == 0x2f ? 1 : 0) } }

    static func childDirectories(_ abs: String) -> [String] {
        guard let dir = opendir(abs) else { return [] }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
