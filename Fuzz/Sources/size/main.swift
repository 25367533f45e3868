import CleaveCgroups
import CleaveRuntime
import CleaveSystem
import FuzzSupport

// Sizes as --memory-max and `cleave probe alloc` take them, and what is done with the value:
// formatting it, and the limit parser of the run options. Refusals name the option.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSize(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let text = fuzzText(start, count)
    do {
        let bytes = try ByteSize.parse(text)
        let shown = ByteSize.format(bytes)
        guard !shown.isEmpty else { violation("format(\(bytes)) is empty") }
        // Whole numbers read back exactly.
        if let exact = UInt64(text), exact != bytes { violation("'\(text)' read as \(bytes)") }
    } catch is ParseError {
    } catch {
        violation("ByteSize.parse threw \(type(of: error)), not ParseError: \(error)")
    }
    do {
        _ = try RunOptionsParser.limit(text, option: "--memory-max")
        _ = try RunOptionsParser.size(text, option: "--size")
    } catch let error as CleaveError {
        guard error.description.hasPrefix("--memory-max: ") || error.description.hasPrefix("--size: "), error.exitCode == 125 else {
            violation("refusal without the option: \(error)")
        }
    } catch {
        violation("RunOptionsParser threw \(type(of: error)): \(error)")
    }
    return 0
}
