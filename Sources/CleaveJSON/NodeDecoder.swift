/// A `Decoder` over `JSONNode`, so the models keep their synthesized `Codable` while every
/// failure names the field ("process.args[1]"), says what was expected and found, and knows
/// the byte offset of the offending value.

/// What went wrong while decoding, before it is tied to a file.
package struct NodeDecodingFailure: Error, Sendable {
    package var path: [PathComponent]
    package var offset: Int
    package var message: String
}

package struct NodeDecoder: Decoder {
    package let node: JSONNode
    package let codingPath: [any CodingKey]
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    package init(node: JSONNode, codingPath: [any CodingKey] = []) {
        self.node = node
        self.codingPath = codingPath
    }

    package static func decode<T: Decodable>(_ type: T.Type, from node: JSONNode) throws -> T {
        try Unbox.value(type, node, [])
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node.kind else {
            throw Unbox.mismatch("an object", node, codingPath)
        }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(object: node, members: members,
                                                              codingPath: codingPath))
    }

    package func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node.kind else {
            throw Unbox.mismatch("an array", node, codingPath)
        }
        return UnkeyedNodeContainer(array: node, elements: elements, codingPath: codingPath)
    }

    package func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
}

/// Conversions from a node to Swift values, with the messages every container shares.
package enum Unbox {
    package static func failure(_ message: String, _ node: JSONNode, _ path: [any CodingKey]) -> NodeDecodingFailure {
        NodeDecodingFailure(path: path.map(FieldPath.component(of:)), offset: node.offset, message: message)
    }

    package static func mismatch(_ expected: String, _ node: JSONNode, _ path: [any CodingKey]) -> NodeDecodingFailure {
        let found: String
        if case .number = node.kind { found = "a number" } else { found = node.foundDescription }
        return failure("expected \(expected), found \(found)", node, path)
    }

    package static func bool(_ node: JSONNode, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = node.kind else { throw mismatch("a boolean", node, path) }
        return b
    }

    package static func string(_ node: JSONNode, _ path: [any CodingKey]) throws -> String {
        guard case .string(let s) = node.kind else { throw mismatch("a string", node, path) }
        return s
    }

    /// Integers are taken from the literal text: fractions and exponents are refused (as Go
    /// does for integer fields) and values outside the field's type name its range.
    package static func integer<T: FixedWidthInteger>(_ type: T.Type, _ node: JSONNode,
                                             _ path: [any CodingKey]) throws -> T {
        guard case .number(let text) = node.kind else { throw mismatch("an integer", node, path) }
        if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            throw failure("expected an integer, found \(text)", node, path)
        }
        guard let value = T(text) else {
            throw failure("expected an integer in \(T.min)...\(T.max), found \(text)", node, path)
        }
        return value
    }

    package static func floating<T: BinaryFloatingPoint & LosslessStringConvertible>(
        _ type: T.Type, _ node: JSONNode, _ path: [any CodingKey]
    ) throws -> T {
        guard case .number(let text) = node.kind else { throw mismatch("a number", node, path) }
        guard let value = T(text), value.isFinite else {
            throw failure("expected a number that fits \(T.self), found \(text)", node, path)
        }
        return value
    }

    package static func value<T: Decodable>(_ type: T.Type, _ node: JSONNode, _ path: [any CodingKey]) throws -> T {
        // Opaque sections (seccomp) are copied straight from the tree.
        if type == JSONValue.self, let copy = JSONValue(node) as? T { return copy }
        return try T(from: NodeDecoder(node: node, codingPath: path))
    }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONNode
    let codingPath: [any CodingKey]
    private let members: [(key: String, value: JSONNode)]
    private let index: [String: JSONNode]

    init(object: JSONNode, members: [(key: String, value: JSONNode)], codingPath: [any CodingKey]) {
        self.object = object
        self.members = members
        self.codingPath = codingPath
        var index: [String: JSONNode] = [:]
        for member in members { index[member.key] = member.value }  // last one wins
        self.index = index
    }

    var allKeys: [Key] {
        var seen = Set<String>()
        return members.compactMap { member in
            guard seen.insert(member.key).inserted else { return nil }
            return Key(stringValue: member.key)
        }
    }

    func contains(_ key: Key) -> Bool { index[key.stringValue] != nil }

    private func node(_ key: Key) throws -> JSONNode {
        guard let node = index[key.stringValue] else {
            throw Unbox.failure("missing (required)", object, codingPath + [key])
        }
        return node
    }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Unbox.bool(node(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Unbox.string(node(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Unbox.floating(type, node(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Unbox.floating(type, node(key), codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Unbox.integer(type, node(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try Unbox.value(type, node(key), codingPath + [key]) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: node(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: node(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = SuperKey()
        let node = index[key.stringValue] ?? JSONNode(kind: .null, offset: object.offset)
        return NodeDecoder(node: node, codingPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        let node = index[key.stringValue] ?? JSONNode(kind: .null, offset: object.offset)
        return NodeDecoder(node: node, codingPath: codingPath + [key])
    }

    private struct SuperKey: CodingKey {
        var stringValue: String { "super" }
        var intValue: Int? { nil }
        init() {}
        init?(stringValue: String) {}
        init?(intValue: Int) { return nil }
    }
}

struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let array: JSONNode
    let elements: [JSONNode]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(array: JSONNode, elements: [JSONNode], codingPath: [any CodingKey]) {
        self.array = array
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (JSONNode, [any CodingKey]) {
        let path = codingPath + [IndexKey(currentIndex)]
        guard !isAtEnd else {
            throw Unbox.failure("missing (the array has only \(elements.count) elements)", array, path)
        }
        let node = elements[currentIndex]
        currentIndex += 1
        return (node, path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { _ = try next(); return false }
        if elements[currentIndex].isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (n, p) = try next(); return try Unbox.bool(n, p) }
    mutating func decode(_ type: String.Type) throws -> String { let (n, p) = try next(); return try Unbox.string(n, p) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (n, p) = try next(); return try Unbox.floating(type, n, p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (n, p) = try next(); return try Unbox.floating(type, n, p) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (n, p) = try next(); return try Unbox.integer(type, n, p) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { let (n, p) = try next(); return try Unbox.value(type, n, p) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (n, p) = try next()
        return try NodeDecoder(node: n, codingPath: p).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (n, p) = try next()
        return try NodeDecoder(node: n, codingPath: p).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (n, p) = try next()
        return NodeDecoder(node: n, codingPath: p)
    }
}

struct SingleNodeContainer: SingleValueDecodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { node.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try Unbox.bool(node, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Unbox.string(node, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Unbox.floating(type, node, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try Unbox.floating(type, node, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Unbox.integer(type, node, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Unbox.integer(type, node, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Unbox.value(type, node, codingPath) }
}
