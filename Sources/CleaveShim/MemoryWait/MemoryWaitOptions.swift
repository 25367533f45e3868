import CleaveCgroups

/// `--wait-memory SIZE` and `--wait-timeout DURATION` (and `cleave wait-memory`'s SIZE and
/// --timeout), checked with messages that name the option.
public enum MemoryWaitOptions {
    public static let defaultTimeout = "5m"

    public static func request(size: String?, timeout: String?) throws -> RunRequest.MemoryWaitRequest? {
        guard let size else {
            if timeout != nil { throw ShimError("--wait-timeout applies to --wait-memory: give --wait-memory SIZE too") }
            return nil
        }
        return RunRequest.MemoryWaitRequest(
            size: try RunOptionsParser.size(size, option: "--wait-memory"),
            timeout: try DurationParser.parse(timeout ?? defaultTimeout, option: "--wait-timeout"))
    }
}
