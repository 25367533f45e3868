import FoundationEssentials
import CleaveJSON

/// `cleave spec`: a config.json for a process workload, to edit rather than write from
/// scratch. Written out by hand (not JSONEncoder) so the keys come in the order a reader
/// expects, as in `runc spec`.
public enum StarterSpec {
    public static func json(args: [String] = ["cleave", "probe", "alloc", "256M"]) -> String {
        """
        {
          "ociVersion": "1.0.2",
          "process": {
            "terminal": false,
            "user": {
              "uid": 0,
              "gid": 0
            },
            "args": \(quotedList(args)),
            "env": [
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            ],
            "cwd": "/",
            "capabilities": {
              "bounding": \(capabilityList),
              "effective": \(capabilityList),
              "permitted": \(capabilityList)
            },
            "rlimits": [
              {
                "type": "RLIMIT_NOFILE",
                "hard": 1024,
                "soft": 1024
              }
            ],
            "noNewPrivileges": true
          },
          "root": {
            "path": "/"
          },
          "linux": {
            "cgroupsPath": "/cleave/example",
            "resources": {
              "memory": {
                "limit": 1073741824
              },
              "cpu": {
                "shares": 1024
              },
              "pids": {
                "limit": 1024
              }
            }
          },
          "annotations": {
            "\(CleaveAnnotations.teardown)": "async"
          }
        }

        """
    }

    /// The same small set `runc spec` starts from: enough to kill one's own processes and bind
    /// a low port, nothing that administers the host.
    static let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    private static var capabilityList: String { quotedList(capabilities) }

    /// A one-line JSON array of strings, each escaped by JSONEncoder.
    static func quotedList(_ strings: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let quoted = strings.map { string -> String in
            // Encoding a String cannot fail; the fallback only keeps this free of force-unwraps.
            guard let data = try? encoder.encode(string) else { return "\"\"" }
            return String(decoding: data, as: UTF8.self)
        }
        return "[" + quoted.joined(separator: ", ") + "]"
    }
}
