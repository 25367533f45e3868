import FoundationEssentials
import PropertyBased
import Testing
@testable import CleaveOCI
@testable import CleaveRuntime
import CleaveSystem
import CleaveJSON

/// config.json, the container state and cleave's own flags under random and mutated input:
/// the documented error or a value, never a trap.
@Suite("Properties: OCI documents and cleave's own parsers")
struct DocumentProperties {
    static let durations = ["500ms", "5s", "5m", "1h30m", "1.5s", "30", "0", "1h", "250us", "10ns", "2h0m0.5s"]

    @Test("DurationParser: every mutated duration is 0 s to a year, or a CleaveError naming the option")
    func durationNeverTraps() async {
        await checkMutations(of: Self.durations) { text in
            do {
                let d = try DurationParser.parse(text, option: "--teardown-timeout")
                #expect(d >= .zero && d <= .seconds(365 * 86400))
            } catch let error as CleaveError {
                #expect("\(error)".hasPrefix("--teardown-timeout: "))
            } catch {
                Issue.record("\(type(of: error)): \(error)")
            }
        }
    }

    @Test("DurationParser round trip: h, m, s and ms written out parse back to the same milliseconds")
    func durationRoundTrip() async {
        await propertyCheck(count: Budget.iterations, input: Gen<Int>.int(in: 0...8000), Gen<Int>.int(in: 0...59),
                            Gen<Int>.int(in: 0...59), Gen<Int>.int(in: 0...999)) { h, m, s, ms in
            let expected = Duration.milliseconds(((h * 60 + m) * 60 + s) * 1000 + ms)
            #expect((try? DurationParser.parse("\(h)h\(m)m\(s)s\(ms)ms", option: "x")) == expected)
            #expect((try? DurationParser.parse("\(h * 3600 + m * 60 + s)", option: "x")) == .seconds(h * 3600 + m * 60 + s))
        }
    }

    static let documents: [[UInt8]] = [
        Array(StarterSpec.json().utf8),
        Array(#"{"ociVersion":"1.0.2","id":"c1","status":"running","pid":4242,"bundle":"/b","annotations":{"k":"v"}}"#.utf8),
        Array(#"[1, -0.5e+3, "a\u00e9\n", true, false, null, {"": [[]]}]"#.utf8),
    ]

    @Test("JSONParser: mutated documents parse or throw JSONSyntaxError; what parses is written back unchanged")
    func jsonParserNeverTraps() async {
        await checkMutations(of: Self.documents) { bytes in
            do {
                let node = try JSONParser.parse(bytes)
                let written = JSONWriter.write(node)
                let again = try JSONParser.parse(Array(written.utf8))
                #expect(JSONWriter.write(again) == written, "write(parse(write(x))) == write(x)")
            } catch {
                #expect(error is JSONSyntaxError, "\(type(of: error)): \(error)")
            }
        }
    }

    @Test("JSONParser: nesting past its limit is refused, not a stack overflow", arguments: [101, 10_000, 1_000_000])
    func deepNesting(depth: Int) {
        let open = [UInt8](repeating: UInt8(ascii: "["), count: depth)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(open + [UInt8](repeating: UInt8(ascii: "]"), count: depth)) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(String(repeating: #"{"a":"#, count: depth).utf8)) }
    }

    @Test("BundleLoader.decode: a mutated config.json decodes or throws OCIError naming the file")
    func bundleDecodeNeverTraps() async {
        await checkMutations(of: [Self.documents[0]]) { bytes in
            do {
                _ = try BundleLoader.decode(Data(bytes), file: "config.json")
            } catch let error as OCIError {
                #expect(error.file == "config.json")
            } catch {
                Issue.record("\(type(of: error)): \(error)")
            }
        }
    }

    @Test("ContainerState.parse: mutated states parse or throw OCIError; a parsed state is valid")
    func containerStateNeverTraps() async {
        await checkMutations(of: [Self.documents[1]]) { bytes in
            do {
                let state = try ContainerState.parse(from: Data(bytes))
                #expect(!state.id.isEmpty && !state.status.isEmpty && state.bundle.hasPrefix("/") && (state.pid ?? 0) >= 0)
            } catch {
                #expect(error is OCIError, "\(type(of: error)): \(error)")
            }
        }
    }

    @Test("ContainerState round trip: an encoded state parses back equal")
    func containerStateRoundTrip() async {
        let text = Gen<Character>.letterOrNumber.string(of: 1...20)
        await propertyCheck(count: Budget.iterations, input: text, text, Gen<Int32>.int32(in: 0...Int32.max).optional,
                            text.array(of: 0...4)) { id, status, pid, notes in
            let annotations = notes.isEmpty ? nil : Dictionary(notes.map { ($0, $0 + "\u{e9}\"\\\n") }, uniquingKeysWith: { a, _ in a })
            let state = ContainerState(ociVersion: "1.0.2", id: id, status: status, pid: pid, bundle: "/bundles/" + id,
                                       annotations: annotations)
            let data = (try? JSONEncoder().encode(state)) ?? Data()
            #expect((try? ContainerState.parse(from: data)) == state)
        }
    }
}
