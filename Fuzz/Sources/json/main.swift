@testable import CleaveJSON
import FuzzSupport

// JSONParser on arbitrary bytes: no trap, syntax errors point inside the input, and every
// valid UTF-8 input written as a JSON string literal (JSONText.quoted) parses back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    do {
        _ = try JSONParser.parse(bytes)
    } catch let error as JSONSyntaxError {
        guard (0...bytes.count).contains(error.offset) else {
            violation("syntax error offset \(error.offset) outside 0...\(bytes.count)")
        }
        let (line, column) = JSONParser.lineAndColumn(of: error.offset, in: bytes)
        guard line >= 1, column >= 1 else { violation("line \(line), column \(column)") }
    } catch {
        violation("JSONParser threw \(type(of: error)), not JSONSyntaxError: \(error)")
    }

    if let text = String(validating: bytes, as: UTF8.self) {
        let literal = Array(JSONText.quoted(text).utf8)
        do {
            let node = try JSONParser.parse(literal)
            guard let back = node.stringValue, back.utf8.elementsEqual(text.utf8) else {
                violation("JSONText.quoted did not round-trip: \(node.kind)")
            }
        } catch {
            violation("JSONText.quoted wrote JSON the parser refuses: \(error)")
        }
    }
    return 0
}
