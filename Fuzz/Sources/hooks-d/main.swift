import CleaveOCI
import FoundationEssentials
import FuzzSupport

// A hooks.d entry (podman/CRI-O hook description), and cleave's own writer of it: what it
// accepts, written back with json(), is accepted again.
private let file = "/etc/containers/oci/hooks.d/fuzz.json"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHooksD(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    do {
        let description = try HookDescription.parse(Data(fuzzBytes(start, count)), file: file)
        do {
            _ = try HookDescription.parse(Data(description.json().utf8), file: file)
        } catch {
            violation("json() of an accepted hook description is refused: \(error)")
        }
    } catch let error as OCIError {
        guard error.file == file, !error.message.isEmpty else { violation("OCIError without file: \(error)") }
    } catch {
        violation("HookDescription.parse threw \(type(of: error)), not OCIError: \(error)")
    }
    return 0
}
