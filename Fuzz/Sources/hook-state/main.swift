import CleaveOCI
import FoundationEssentials
import FuzzSupport

// The container state an OCI runtime writes on a hook's stdin.
private let source = "container state (stdin)"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHookState(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    do {
        let state = try ContainerState.parse(from: Data(fuzzBytes(start, count)), source: source)
        guard !state.id.isEmpty, state.bundle.hasPrefix("/") else { violation("accepted state \(state)") }
        if let pid = state.processID, pid <= 0 { violation("processID \(pid)") }
    } catch let error as OCIError {
        guard error.file == source, !error.message.isEmpty else { violation("OCIError without source: \(error)") }
    } catch {
        violation("ContainerState.parse threw \(type(of: error)), not OCIError: \(error)")
    }
    return 0
}
