import CleaveCgroups
import Glibc
import CleaveSystem

package enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// Where the HTTP server listens: "HOST:PORT", "[IPv6]:PORT" or ":PORT".
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) { self.host = host; self.port = port }

    package static func parse(_ text: String) throws -> ListenAddress {
        let bad = { (why: String) in CleaveError.message("--listen: invalid address '\(text)': \(why)") }
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("missing ']' after the IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw bad("expected ':PORT' after ']'") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad("expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw bad("write an IPv6 address in brackets, e.g. [::1]:9464") }
        }
        guard let port = Int(portText), (0...65535).contains(port) else { throw bad("port must be a number from 0 to 65535") }
        let h = host.isEmpty ? "0.0.0.0" : String(host)
        guard h.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "%" }) else {
            throw bad("'\(h)' is not a host name or an IP address")
        }
        return ListenAddress(host: h, port: port)
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Everything `cleave agent` is told on its command line, validated.
package struct AgentOptions: Sendable {
    package var listen = ListenAddress(host: "127.0.0.1", port: 9464)
    /// --root values as given (resolved by `resolveRoots`); none: the whole hierarchy.
    package var roots: [String] = []
    package var rescanInterval: Duration = .seconds(10)
    package var logFormat: LogFormat = .text
    /// A teardown running longer than this counts once in cleave_teardown_timeouts_total.
    package var teardownTimeout: Duration = .seconds(300)
    /// The cgroup2 mount to watch; nil: discovered from /proc/self/mountinfo.
    /// In a container, the host's hierarchy mounted elsewhere (e.g. /host/sys/fs/cgroup).
    package var cgroupMount: String?
    /// Where the processes of that hierarchy are seen (the host's /proc in a container).
    package var procRoot = "/proc"

    package init() {}

    /// Resolves --root values (relative to the mount, or absolute paths
    /// below it) to existing cgroups; nested roots are folded into their
    /// ancestors.
    package static func resolveRoots(_ given: [String], mount: CgroupMount) throws -> [String] {
        if given.isEmpty { return [""] }
        var result = [String]()
        for raw in given {
            let cgroup: Cgroup
            do {
                if raw == mount.mountPoint || raw.hasPrefix(mount.mountPoint + "/") {
                    cgroup = try Cgroup(absolutePath: raw, mount: mount)
                } else {
                    cgroup = try Cgroup(mount: mount, path: raw)
                }
            } catch let e as CgroupError {
                throw CleaveError.message("--root: invalid cgroup path '\(raw)': \(e.message)")
            }
            guard cgroup.exists else {
                throw CleaveError.message("--root: '\(raw)' is not a cgroup (\(cgroup.path) does not exist or is not a directory)")
            }
            guard access(cgroup.path, R_OK | X_OK) == 0 else {
                throw CleaveError.system(context: "--root: cannot read '\(raw)' (\(cgroup.path))", SystemError("access", path: cgroup.path))
            }
            result.append(cgroup.relativePath)
        }
        let unique = Set(result)
        return unique.filter { r in !unique.contains { other in other != r && isAncestor(other, of: r) } }.sorted()
    }

    static func isAncestor(_ a: String, of b: String) -> Bool {
        a.isEmpty ? !b.isEmpty : b.hasPrefix(a + "/")
    }
}

extension AgentOptions {
    /// The hierarchy to watch: --cgroup-mount when given (it must be a cgroup2 mount point), else discovered.
    package func resolveMount() throws -> CgroupMount {
        guard let path = cgroupMount else {
            do { return try CgroupMount.discover() } catch let e as CgroupError { throw CleaveError.wrapped(context: "no cgroup2 hierarchy", e) }
        }
        // cgroup.controllers exists only in cgroup2 directories.
        guard access(path + "/cgroup.controllers", R_OK) == 0 else {
            throw CleaveError.system(context: "--cgroup-mount: '\(path)' is not a readable cgroup2 hierarchy (no cgroup.controllers)",
                                     SystemError("access", path: path + "/cgroup.controllers"))
        }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        return CgroupMount(mountPoint: trimmed, isUnified: true)
    }

    package func validateProcRoot() throws {
        guard access(procRoot + "/self/stat", R_OK) == 0 || access(procRoot + "/1/stat", R_OK) == 0 else {
            throw CleaveError.message("--proc-mount: '\(procRoot)' does not look like a procfs mount")
        }
    }
}
