/// Parsers for cgroup file contents. Pure functions, so tests can feed them
/// sample files.
public enum StatParsers {
    /// "key value" lines: memory.stat, cpu.stat, memory.events, cgroup.events, cgroup.stat.
    public static func flatKeyed(_ text: String) throws -> [String: UInt64] {
        var result = [String: UInt64]()
        for line in text.split(separator: "\n") where !line.isEmpty {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { throw ParseError(String(line), "expected 'key value'") }
            guard let value = wholeNumber(parts[1]) else { throw ParseError(String(line), "'\(parts[1])' is not a whole number") }
            result[String(parts[0])] = value
        }
        return result
    }

    /// A single value file: a number or "max".
    public static func singleValue(_ text: String) throws -> LimitValue {
        let t = text.trimmedLine
        if t == "max" { return .max }
        guard let v = wholeNumber(t) else { throw ParseError(t, "expected a whole number or 'max'") }
        return .value(v)
    }

    /// Decimal digits only: UInt64("+1") and Int32("+1") accept a sign the kernel never
    /// writes (found by hack/fuzz.sh stats).
    static func wholeNumber<S: StringProtocol>(_ text: S) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt64(text)
    }

    /// cgroup.procs: one pid a line.
    public static func pids(_ text: String) throws -> [Int32] {
        try text.split(separator: "\n").map { line in
            guard let pid = wholeNumber(line).flatMap(Int32.init(exactly:)), pid > 0 else { throw ParseError(String(line), "not a process id") }
            return pid
        }
    }
}

extension StringProtocol {
    var trimmedLine: String {
        String(self.drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed())
    }
}
