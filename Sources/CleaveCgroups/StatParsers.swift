import CleaveSystem

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

    /// `flatKeyed(text)[key]` without the dictionary: the exit path reads two or three keys,
    /// and a dictionary's first use costs more than the read (30 µs of every `cleave run`).
    /// Kernel text is ASCII; anything else (where Character and byte splitting could differ)
    /// goes through flatKeyed itself.
    public static func flatKeyedValue(_ key: String, in text: String) throws -> UInt64? {
        var text = text
        var key = key
        let value = try key.withUTF8 { key in
            try text.withUTF8 { bytes -> UInt64?? in
                guard bytes.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) else { return .none }
                return .some(try valueOnBytes(key, bytes))
            }
        }
        if let value { return value }
        return try flatKeyed(text)[key]
    }

    private static func valueOnBytes(_ key: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>) throws -> UInt64? {
        var found: UInt64?
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            defer { start = end + 1 }
            // The line's parts at spaces (empty ones left out, as split does): the first two
            // kept, a third only counted.
            var first = 0..<0, second = 0..<0, count = 0
            ByteText.forEachField(bytes, in: start..<end) { index, part in
                if index == 0 { first = part } else if index == 1 { second = part }
                count = index + 1
                return index < 2
            }
            if start == end { continue }
            let line = { String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) }
            guard count == 2 else { throw ParseError(line(), "expected 'key value'") }
            guard let value = ByteText.wholeNumber(bytes[second]) else {
                let part = String(decoding: UnsafeBufferPointer(rebasing: bytes[second]), as: UTF8.self)
                throw ParseError(line(), "'\(part)' is not a whole number")
            }
            if bytes[first].elementsEqual(key) { found = value }
        }
        return found
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
