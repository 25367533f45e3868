import CCleaveSystem
import CleaveOCI
import FoundationEssentials
import Glibc
import CleaveRuntime
import CleaveSystem

/// The container's main process as the hook may act on it: held through a pidfd, and
/// checked against the runtime's own record where one exists, so a pid that was reused by
/// an unrelated process is refused instead of measured.
package struct ContainerProcess {
    package let pid: Int32
    package let startTime: UInt64
    package let verifiedBy: String
    /// Owned: close it with `close()`.
    package let pidfd: Int32

    package static func open(_ state: ContainerState, rawState: Data) throws -> ContainerProcess {
        guard let pid = state.processID else {
            throw CleaveError.message("the container state has no pid (status '\(state.status)'): nothing to follow")
        }
        let held: ProcessIdentity.Held
        do { held = try ProcessIdentity.hold(pid) } catch let error as SystemError {
            throw CleaveError.message(error.operation == "pidfd_open"
                ? "pid \(pid) of container \(state.id) is gone (\(SystemError.reason(error.errno)))"
                : "pid \(pid) exited while being read")
        }
        let (pidfd, startTime) = (held.pidfd, held.startTime)
        do {
            var verifiedBy = "pidfd"
            if let recorded = RuntimeRecord.find(id: state.id, rawState: rawState) {
                guard recorded.pid == pid else {
                    throw CleaveError.message("pid \(pid) in the hook's state is not container \(state.id)'s (\(recorded.source) says pid \(recorded.pid)): refusing to act on it")
                }
                if let start = recorded.startTime, start != startTime {
                    throw CleaveError.message("pid \(pid) was reused: it started at tick \(startTime), container \(state.id)'s process at \(start) (\(recorded.source)): refusing to act on it")
                }
                verifiedBy = "runtime-state"
            }
            return ContainerProcess(pid: pid, startTime: startTime, verifiedBy: verifiedBy, pidfd: pidfd)
        } catch {
            Glibc.close(pidfd)
            throw error
        }
    }

    package func close() { Glibc.close(pidfd) }

    /// PID 1 of a PID namespace of its own: its exit kills every process in it, the helper too.
    package var isNamespaceInit: Bool {
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
            if let text = FileIO.read(file), let status = try? decoder.decode(CrunStatus.self, from: Data(text.utf8)) {
                return RuntimeRecord(pid: status.pid, startTime: status.processStartTime, source: file)
            }
        }
        for dir in [root, "/run/runc"].compactMap({ $0 }) {
            let file = "\(dir)/\(id)/state.json"
            if let text = FileIO.read(file), let state = try? decoder.decode(RuncState.self, from: Data(text.utf8)) {
                return RuntimeRecord(pid: state.initProcessPid, startTime: state.initProcessStart, source: file)
            }
        }
        return nil
    }
}
