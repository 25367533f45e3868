import Glibc

public enum StandardInput {
    public static let defaultLimit = 16 << 20

    /// Everything on fd 0, at most `limit` bytes (a hook's state is a few hundred bytes; the
    /// cap keeps a wrong redirection from filling memory). More than that is an error that
    /// says so, not a truncated document that fails to parse for a misleading reason.
    public static func readAll(limit: Int = defaultLimit, from fd: Int32 = 0) throws -> [UInt8] {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CleaveError.system(context: "cannot read the input on stdin", SystemError("read", path: "stdin"))
            }
            guard n > 0 else { return out }
            guard out.count + n <= limit else { throw CleaveError.message("input over \(describe(limit)) (a container state is a few hundred bytes of JSON)") }
            out.append(contentsOf: buffer[0..<n])
        }
    }

    package static func describe(_ limit: Int) -> String {
        limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit) bytes"
    }
}
