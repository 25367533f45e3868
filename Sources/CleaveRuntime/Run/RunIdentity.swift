/// The run's id, name and short id, fixed once. Made on bytes (SafeName): the generic
/// `joined`/`radix` paths cost about 0.1 ms of every start on their first use.
package struct RunIdentity {
    package let id: String
    package let name: String
    package var shortID: String { String(id.prefix(8)) }

    package init(request: RunRequest) {
        id = request.id ?? Self.randomID()
        name = Self.cgroupName(request.name ?? request.command.first.map(Self.lastComponent) ?? "workload")
    }

    /// 128 random bits as 32 lowercase hex digits.
    package static func randomID() -> String {
        let digits: StaticString = "0123456789abcdef"
        var bytes = [UInt8](repeating: 0, count: 32)
        digits.withUTF8Buffer { hex in
            var i = 0
            while i < 2 {
                let value = UInt64.random(in: 0...UInt64.max)
                var k = 0
                while k < 16 {
                    bytes[i * 16 + k] = hex[Int((value >> UInt64(60 - 4 * k)) & 0xf)]
                    k += 1
                }
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The last non-empty "/"-separated part ("/usr/bin/redis-server" gives "redis-server");
    /// the text itself when there is none ("/").
    package static func lastComponent(_ path: String) -> String {
        guard path.utf8.allSatisfy({ $0 < 0x80 }) else {
            return path.split(separator: "/").last.map(String.init) ?? path
        }
        guard let last = path.utf8.split(separator: UInt8(ascii: "/")).last else { return path }
        return String(Substring(last))
    }

    /// A cgroup's name from `base`: SafeName's rules, no leading "." (a hidden directory),
    /// "workload" when nothing is left.
    package static func cgroupName(_ base: String) -> String {
        let name = SafeName.make(base, limit: 64, droppingLeadingDots: true)
        return name.isEmpty ? "workload" : name
    }
}
