import Foundation
import Testing
@testable import CleaveOCI
import CleaveJSON

@Suite struct ContainerStateTests {
    /// What runc writes to a poststart hook's stdin.
    @Test func runcState() throws {
        let json = #"""
        {"ociVersion":"1.0.2-dev","id":"web-1","status":"running","pid":4422,"bundle":"/run/containers/web-1/userdata","annotations":{"io.cleave.teardown":"async","io.kubernetes.pod.name":"web"}}
        """#
        let state = try ContainerState.parse(from: Data(json.utf8))
        #expect(state == ContainerState(ociVersion: "1.0.2-dev", id: "web-1", status: "running", pid: 4422,
                                        bundle: "/run/containers/web-1/userdata",
                                        annotations: ["io.cleave.teardown": "async", "io.kubernetes.pod.name": "web"]))
        #expect(state.processID == 4422)
        #expect(CleaveAnnotations.teardownMode(in: state.annotations) == .async)
    }

    /// What crun writes for poststop: its own "root" key, pid 0 once the process is gone.
    @Test func crunPoststopState() throws {
        let json = #"""
        {
            "ociVersion": "1.0.0",
            "id": "c1",
            "pid": 0,
            "root": "/tmp/bundle/rootfs",
            "bundle": "/tmp/bundle",
            "status": "stopped"
        }
        """#
        let state = try ContainerState.parse(from: Data(json.utf8))
        #expect(state.id == "c1")
        #expect(state.status == "stopped")
        #expect(state.pid == 0)
        #expect(state.processID == nil)
        #expect(state.bundle == "/tmp/bundle")
        #expect(state.annotations == nil)
    }

    @Test func stateRoundTrips() throws {
        let state = ContainerState(ociVersion: "1.2.0", id: "x", status: "created", pid: 7, bundle: "/b")
        let again = try ContainerState.parse(from: try JSONEncoder().encode(state))
        #expect(again == state)
    }

    @Test(arguments: [
        ("", "container state (stdin): empty input (a hook reads the container state as JSON on stdin; was cleave run by an OCI runtime?)"),
        ("{\"id\": \"x\",", "container state (stdin): line 1, column 12: invalid JSON: expected a string key after ',', found end of input"),
        (#"{"ociVersion": "1.0.0", "status": "running", "bundle": "/b"}"#, "container state (stdin): id: missing (required)"),
        (#"{"ociVersion": "1.0.0", "id": "x", "status": "running", "pid": "12", "bundle": "/b"}"#,
         "container state (stdin): pid: expected an integer, found a string"),
        (#"{"ociVersion": "1.0.0", "id": "x", "status": "running", "pid": 4294967296, "bundle": "/b"}"#,
         "container state (stdin): pid: expected an integer in -2147483648...2147483647, found 4294967296"),
        (#"{"ociVersion": "1.0.0", "id": "", "status": "running", "bundle": "/b"}"#,
         "container state (stdin): id: empty (the runtime names every container)"),
        (#"{"ociVersion": "1.0.0", "id": "x", "status": "running", "bundle": "b"}"#,
         "container state (stdin): bundle: 'b' is not an absolute path"),
        (#"{"ociVersion": "1.0.0", "id": "x", "status": "running", "pid": -4, "bundle": "/b"}"#,
         "container state (stdin): pid: -4 is not a process ID"),
        (#"{"ociVersion": "1.0.0", "id": "x", "status": "running", "bundle": "/b", "annotations": {"a": 1}}"#,
         "container state (stdin): annotations.a: expected a string, found a number"),
    ])
    func badState(json: String, expected: String) throws {
        let error = #expect(throws: OCIError.self) { try ContainerState.parse(from: Data(json.utf8)) }
        #expect(error?.description == expected)
    }

    @Test func sourceNameIsUsed() throws {
        let error = #expect(throws: OCIError.self) { try ContainerState.parse(from: Data("[]".utf8), source: "state.json") }
        #expect(error?.description == "state.json: line 1, column 1: top level: expected an object, found an array")
    }
}
