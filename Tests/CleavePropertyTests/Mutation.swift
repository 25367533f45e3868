import Glibc
import Testing
import PropertyBased

/// How many inputs each property gets: small for CI (a few seconds for the whole target),
/// CLEAVE_PROPERTY_ITERATIONS=100000 for a long hunt.
enum Budget {
    static let iterations: Int = {
        guard let raw = getenv("CLEAVE_PROPERTY_ITERATIONS"), let n = Int(String(cString: raw)), n > 0 else { return 300 }
        return n
    }()
}

/// Random words that drive one mutation (each word picks an operation, a place and a token).
let mutationWords = Gen<UInt64>.value().array(of: 0...12)

/// Mutates seed inputs the way broken files and hostile flags look: tokens that mean
/// something to one of the parsers inserted or substituted, slices deleted, duplicated,
/// swapped and truncated.
enum Mutation {
    static let tokens: [String] = [
        "0", "1", "9", "00", ".", "-", "+", " ", "\t", "\n", "\r", "\0", "\\", "\"", "/", "//", "..", "../",
        "{", "}", "[", "]", ":", ",", "=", "K", "M", "G", "T", "i", "B", "k", "b", "m", "s", "h", "n", "u",
        "µs", "e", "E", "max", "null", "true", "false", "\\u0000", "\\ud800", "\\040", "\\1", "é", "💥", "\u{FFFD}",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999", "-1", "1e308", "1e-400",
        "nan", "inf", "0x10", "2147483648", "-2147483649", "cgroup2", " - ", "populated", "anon",
    ]

    static func apply(_ words: [UInt64], to seed: String) -> String {
        var chars = Array(seed)
        for word in words { mutate(&chars, word: word, token: { Array(tokens[$0 % tokens.count]) }) }
        return String(chars)
    }

    /// Byte-level, so invalid UTF-8 and stray bytes reach the byte parsers too.
    static func apply(_ words: [UInt64], to seed: [UInt8]) -> [UInt8] {
        var bytes = seed
        for word in words {
            mutate(&bytes, word: word, token: { i in
                i % 5 == 0 ? [UInt8(truncatingIfNeeded: i >> 3)] : Array(tokens[i % tokens.count].utf8)
            })
        }
        return bytes
    }

    private static func mutate<E>(_ items: inout [E], word: UInt64, token: (Int) -> [E]) {
        let op = Int(word & 7)
        let a = Int((word >> 8) & 0xFFFF) % (items.count + 1)
        let b = Int((word >> 24) & 0xFFFF) % (items.count + 1)
        let t = Int(word >> 40)
        switch op {
        case 0, 1: items.insert(contentsOf: token(t), at: a)                         // insert a token
        case 2: if a < items.count { items.replaceSubrange(a...a, with: token(t)) }   // substitute
        case 3: items.removeSubrange(min(a, b)..<max(a, b))                          // delete a slice
        case 4: items.insert(contentsOf: items[min(a, b)..<max(a, b)], at: max(a, b)) // duplicate a slice
        case 5: if a < items.count && b < items.count { items.swapAt(a, b) }          // swap two
        case 6: items.removeSubrange(a...)                                            // truncate
        default: if a < items.count { items.remove(at: a) }                           // drop one
        }
    }
}

/// Runs `body` on Budget.iterations mutations of randomly chosen seeds.
func checkMutations(of seeds: [String], sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: (String) throws -> Void) async {
    await propertyCheck(count: Budget.iterations, input: Gen<Int>.int(in: 0...seeds.count - 1), mutationWords,
                        perform: { i, words in try body(Mutation.apply(words, to: seeds[i])) }, sourceLocation: sourceLocation)
}

/// The same over bytes, so invalid UTF-8 reaches the byte parsers.
func checkMutations(of seeds: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: ([UInt8]) throws -> Void) async {
    await propertyCheck(count: Budget.iterations, input: Gen<Int>.int(in: 0...seeds.count - 1), mutationWords,
                        perform: { i, words in try body(Mutation.apply(words, to: seeds[i])) }, sourceLocation: sourceLocation)
}
