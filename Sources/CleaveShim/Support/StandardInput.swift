import Glibc

public enum StandardInput {
    /// Everything on fd 0, up to `limit` bytes (a hook's state is a few hundred bytes;
    /// the cap keeps a wrong redirection from filling memory).
    public static func readAll(limit: Int = 16 << 20) -> [UInt8] {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }
}
