import CleaveCgroups
import CleaveSystem

/// `--wait-memory SIZE` and `--wait-timeout DURATION` (and `cleave wait-memory`'s SIZE and
/// --timeout), checked with messages that name the option.
public enum MemoryWaitOptions {
    public static let defaultTimeout = "5m"

    public static func request(size: String?, timeout: String?) throws -> RunRequest.MemoryWaitRequest? {
        guard let size else {
            if timeout != nil { throw CleaveError.message("--wait-timeout applies to --wait-memory: give --wait-memory SIZE too") }
            return nil
        }
        return RunRequest.MemoryWaitRequest(
            size: try RunOptionsParser.size(size, option: "--wait-memory"),
            timeout: try DurationParser.parse(timeout ?? defaultTimeout, option: "--wait-timeout"))
    }
}

extension RunRequest {
    /// `--wait-memory SIZE [--wait-timeout DURATION]`.
    public struct MemoryWaitRequest: Sendable, Equatable {
        public var size: UInt64
        public var timeout: Duration
        public init(size: UInt64, timeout: Duration) {
            self.size = size
            self.timeout = timeout
        }
    }
}
