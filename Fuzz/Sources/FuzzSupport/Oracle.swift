#if canImport(Glibc)
import Glibc
#endif

/// A harness found input that parsed without a trap but broke a promise (an error that does
/// not name its input, a value out of range): print why and abort, so libFuzzer saves the
/// input as a crash like any trap.
public func violation(_ what: String) -> Never {
    let line = Array("fuzz oracle: \(what)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    abort()
}

/// The fuzz input as bytes.
public func fuzzBytes(_ start: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: start, count: count))
}

/// The fuzz input as text; invalid UTF-8 is repaired as the parsers' callers do
/// (String(decoding:as:)).
public func fuzzText(_ start: UnsafeRawPointer?, _ count: Int) -> String {
    String(decoding: fuzzBytes(start, count), as: UTF8.self)
}
