import CCleaveSpawn
import CleaveOCI
import FoundationEssentials
import Glibc

/// The container's main process as the hook may act on it: held through a pidfd, and
/// checked against the runtime's own record where one exists, so a pid that was reused by
/// an unrelated process is refused instead of measured.
public struct ContainerProcess {
    public let pid: Int32
    public let startTime: UInt64
    public let verifiedBy: String
    /// Owned: close it with `close()`.
    public let pidfd: Int32

    public static func open(_ state: ContainerState, rawState: Data) throws -> ContainerProcess {
        guard let pid = state.processID else {
            throw ShimError("the container state has no pid (status '\(state.status)'): nothing to follow")
        }
        let pidfd = cleave_pidfd_open(pid)
        guard pidfd >= 0 else {
            throw ShimError("pid \(pid) of container \(state.id) is gone (\(String(cString: strerror(errno))))")
        }
        do {
            guard let startTime = ProcFS.startTime(pid) else { throw ShimError("pid \(pid) is gone") }
            var verifiedBy = "pidfd"
            if let recorded = RuntimeRecord.find(id: state.id, rawState: rawState) {
                guard recorded.pid == pid else {
                    throw ShimError("pid \(pid) in the hook's state is not container \(state.id)'s (\(recorded.source) says pid \(recorded.pid)): refusing to act on it")
                }
                if let start = recorded.startTime, start != startTime {
                    throw ShimError("pid \(pid) was reused: it started at tick \(startTime), container \(state.id)'s process at \(start) (\(recorded.source)): refusing to act on it")
                }
                verifiedBy = "runtime-state"
            }
            // Still the process the pidfd holds, so what was read belongs to it.
            guard cleave_pidfd_send_signal(pidfd, 0) == 0 else { throw ShimError("pid \(pid) exited while being read") }
            return ContainerProcess(pid: pid, startTime: startTime, verifiedBy: verifiedBy, pidfd: pidfd)
        } catch {
            Glibc.close(pidfd)
            throw error
        }
    }

    public func close() { Glibc.close(pidfd) }

    /// PID 1 of a PID namespace of its own: its exit kills every process in it, the helper too.
    public var isNamespaceInit: Bool {
        guard let pids = ProcFS.namespacePids(pid) else { return false }
        return pids.count > 1 && pids.last == 1
    }
}

/// The runtime's own record of a container's main process: crun's `<root>/<id>/status`
/// or runc's `<root>/<id>/state.json`.
struct RuntimeRecord {
    let pid: Int32
    let startTime: UInt64?
    let source: String

    private struct StateRoot: Decodable { var root: String? }
    private struct CrunStatus: Decodable {
        var pid: Int32
        var processStartTime: UInt64?
        enum CodingKeys: String, CodingKey { case pid; case processStartTime = "process-start-time" }
    }
    private struct RuncState: Decodable {
        var initProcessPid: Int32
        var initProcessStart: UInt64?
        enum CodingKeys: String, CodingKey { case initProcessPid = "init_process_pid"; case initProcessStart = "init_process_start" }
    }

    static func find(id: String, rawState: Data) -> RuntimeRecord? {
        guard HookFiles.isSafeID(id) else { return nil }
        let decoder = JSONDecoder()
        // crun passes its state root in the hook's state; otherwise the default roots.
        let root = (try? decoder.decode(StateRoot.self, from: rawState))?.root
        let crunRoots = [root, "/run/crun"].compactMap { $0 }
        for dir in crunRoots {
            let file = "\(dir)/\(id)/status"
            if let text = ProcFS.readFile(file), let status = try? decoder.decode(CrunStatus.self, from: Data(text.utf8)) {
                return RuntimeRecord(pid: status.pid, startTime: status.processStartTime, source: file)
            }
        }
        for dir in [root, "/run/runc"].compactMap({ $0 }) {
            let file = "\(dir)/\(id)/state.json"
            if let text = ProcFS.readFile(file), let state = try? decoder.decode(RuncState.self, from: Data(text.utf8)) {
                return RuntimeRecord(pid: state.initProcessPid, startTime: state.initProcessStart, source: file)
            }
        }
        return nil
    }
}
