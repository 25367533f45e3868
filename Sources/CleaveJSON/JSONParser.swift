/// A strict RFC 8259 parser that keeps the byte offset of every value.
///
/// Why not JSONDecoder alone: on this toolchain (Swift 6.3.1, Linux) JSONDecoder reports every
/// syntax error as "The given data was not valid JSON." with no underlying error and no offset,
/// and it reports a number that does not fit its field (uid -1, a limit of 1.5) the same way,
/// without a coding path. Parsing ourselves gives a line and column for syntax errors, and the
/// `NodeDecoder` over this tree gives the field path for every type or range error.

/// A parsed JSON value and where it starts in the input.
package struct JSONNode: Sendable {
    package enum Kind: Sendable {
        case null
        case bool(Bool)
        /// The number's literal text, so integers are converted exactly (no trip through Double).
        case number(String)
        case string(String)
        case array([JSONNode])
        /// Members in document order; a repeated key is kept and the last one wins on lookup,
        /// as in Go's encoding/json that runc and the spec's tools use.
        case object([(key: String, value: JSONNode)])
    }

    package var kind: Kind
    /// Byte offset of the value's first byte.
    package var offset: Int

    package init(kind: Kind, offset: Int) { self.kind = kind; self.offset = offset }

    /// How a value is named in "expected X, found Y" messages.
    package var foundDescription: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number(let text): return "the number \(text)"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    package var isNull: Bool {
        if case .null = kind { return true }
        return false
    }
}

package struct JSONSyntaxError: Error, Sendable {
    package var offset: Int
    package var reason: String
}

package struct JSONParser {
    /// Deep enough for any OCI document (they nest about six levels), shallow enough that a
    /// hostile file cannot exhaust a thread's stack through recursion.
    package static let maxDepth = 100

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    package static func parse(_ bytes: [UInt8]) throws -> JSONNode {
        var parser = JSONParser(bytes)
        // A UTF-8 byte order mark is not JSON, but editors write it; skipping it is harmless.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.position = 3 }
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.failure("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    /// 1-based line and column of a byte offset. The column counts characters (Unicode
    /// scalars), not bytes, so it matches what an editor shows for non-ASCII text.
    package static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var column = 1
        for b in bytes[0..<end] {
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    // MARK: - Grammar

    private mutating func parseValue() throws -> JSONNode {
        skipWhitespace()
        guard let byte = peek() else {
            throw failure("unexpected end of input, expected a value")
        }
        let start = position
        switch byte {
        case UInt8(ascii: "{"):
            return JSONNode(kind: try parseObject(), offset: start)
        case UInt8(ascii: "["):
            return JSONNode(kind: try parseArray(), offset: start)
        case UInt8(ascii: "\""):
            return JSONNode(kind: .string(try parseString()), offset: start)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return JSONNode(kind: .bool(true), offset: start)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return JSONNode(kind: .bool(false), offset: start)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return JSONNode(kind: .null, offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(kind: .number(try parseNumber()), offset: start)
        default:
            throw failure("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func parseObject() throws -> JSONNode.Kind {
        try enterContainer()
        position += 1  // "{"
        var members: [(key: String, value: JSONNode)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw failure(members.isEmpty
                    ? "expected a string key or '}', found \(describeCurrent())"
                    : "expected a string key after ',', found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw failure("expected ':' after the key \"\(key)\", found \(describeCurrent())")
            }
            position += 1
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                depth -= 1
                return .object(members)
            default:
                throw failure("expected ',' or '}' after the value of \"\(key)\", found \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray() throws -> JSONNode.Kind {
        try enterContainer()
        position += 1  // "["
        var elements: [JSONNode] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                throw failure("expected a value after ',', found ']' (trailing comma)")
            }
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                depth -= 1
                return .array(elements)
            default:
                throw failure("expected ',' or ']' after an array element, found \(describeCurrent())")
            }
        }
    }

    private mutating func enterContainer() throws {
        depth += 1
        if depth > Self.maxDepth {
            throw failure("nested deeper than \(Self.maxDepth) levels")
        }
    }

    private mutating func parseString() throws -> String {
        let start = position
        position += 1  // opening quote
        var buffer: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw JSONSyntaxError(offset: start, reason: "unterminated string")
            }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw JSONSyntaxError(offset: start, reason: "string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw failure("control character \(hex(byte)) in a string (write it as an escape)")
            default:
                buffer.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws {
        guard let byte = peek() else { throw failure("unterminated string") }
        let simple: UInt8?
        switch byte {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            throw failure("invalid escape '\\\(Character(Unicode.Scalar(byte)))' in a string")
        }
        if let simple {
            buffer.append(simple)
            position += 1
            return
        }
        position += 1  // "u"
        var scalarValue = try parseHex4()
        if (0xD800..<0xDC00).contains(scalarValue) {
            // A high surrogate must be followed by "\u" and a low surrogate.
            if peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") {
                let save = position
                position += 2
                let low = try parseHex4()
                if (0xDC00..<0xE000).contains(low) {
                    scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = save
                    scalarValue = 0xFFFD
                }
            } else {
                scalarValue = 0xFFFD
            }
        } else if (0xDC00..<0xE000).contains(scalarValue) {
            scalarValue = 0xFFFD
        }
        // Unpaired surrogates become U+FFFD, as Go's decoder does, rather than failing a
        // config that runc would accept.
        let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
        buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexValue(byte) else {
                throw failure("invalid \\u escape (expected four hex digits)")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws -> String {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else {
            throw failure("invalid number (expected a digit after '-')")
        }
        position += 1
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) {
            throw JSONSyntaxError(offset: start, reason: "invalid number (leading zero)")
        }
        while let b = peek(), isDigit(b) { position += 1 }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let b = peek(), isDigit(b) else {
                throw failure("invalid number (expected a digit after '.')")
            }
            while let b = peek(), isDigit(b) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let b = peek(), isDigit(b) else {
                throw failure("invalid number (expected a digit in the exponent)")
            }
            while let b = peek(), isDigit(b) { position += 1 }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let start = position
        let expected = literal.withUTF8Buffer { Array($0) }
        for b in expected {
            guard peek() == b else {
                throw JSONSyntaxError(offset: start,
                                      reason: "invalid literal (expected '\(literal)')")
            }
            position += 1
        }
        // "nullx" or "true1" is one bad token, not a literal followed by garbage.
        if let next = peek(), isLetterOrDigit(next) {
            throw JSONSyntaxError(offset: start, reason: "invalid literal (expected '\(literal)')")
        }
    }

    // MARK: - Bytes

    private func peek(_ ahead: Int = 0) -> UInt8? {
        let i = position + ahead
        return i < bytes.count ? bytes[i] : nil
    }

    private mutating func skipWhitespace() {
        while let b = peek(), b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { position += 1 }
    }

    private func failure(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, reason: reason)
    }

    private func describeCurrent() -> String {
        guard let b = peek() else { return "end of input" }
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte \(hex(b))"
    }

    private func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 0xF)])
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private func isLetterOrDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z"))
    }

    private func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
