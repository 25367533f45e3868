/// Kernel text (/proc and cgroup files, ASCII) read on its bytes: no Character segmentation and
/// no arrays of substrings, whose first use costs more than reading the file.
public enum ByteText {
    /// The whole number `digits` spell in decimal; nil when empty, when a byte is not a digit
    /// (no sign, no space), or past UInt64.
    public static func wholeNumber(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// Calls `body` with the index and range of each space-separated field of `bytes[range]`,
    /// a run of spaces being one separator (as split does), until `body` returns false.
    public static func forEachField(_ bytes: UnsafeBufferPointer<UInt8>, in range: Range<Int>,
                                    _ body: (Int, Range<Int>) -> Bool) {
        var i = range.lowerBound, index = 0
        while i < range.upperBound {
            while i < range.upperBound && bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < range.upperBound else { return }
            let start = i
            while i < range.upperBound && bytes[i] != UInt8(ascii: " ") { i += 1 }
            guard body(index, start..<i) else { return }
            index += 1
        }
    }
}
