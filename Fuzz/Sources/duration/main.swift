import CleaveSystem
import FuzzSupport

// Durations as --teardown-timeout, --wait and --rescan take them, and their use as seconds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDuration(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let text = fuzzText(start, count)
    do {
        let duration = try DurationParser.parse(text, option: "--teardown-timeout")
        guard duration >= .zero, duration <= .seconds(365 * 86400) else { violation("'\(text)' read as \(duration)") }
        let seconds = duration.seconds
        guard seconds.isFinite, seconds >= 0 else { violation("seconds \(seconds)") }
    } catch let error as CleaveError {
        guard error.description.hasPrefix("--teardown-timeout: "), error.exitCode == 125 else {
            violation("refusal without the option: \(error)")
        }
    } catch {
        violation("DurationParser.parse threw \(type(of: error)), not CleaveError: \(error)")
    }
    return 0
}
