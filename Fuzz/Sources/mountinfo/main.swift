import CleaveCgroups
import FuzzSupport

// /proc/self/mountinfo as CgroupMount reads it, and cgroup paths as --cgroup and a bundle's
// linux.cgroupsPath give them: a path CgroupPath accepts never climbs out of its parent.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMountinfo(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let text = fuzzText(start, count)
    do {
        let mount = try CgroupMount.parse(mountinfo: text)
        guard !mount.mountPoint.isEmpty else { violation("empty mount point") }
    } catch is ParseError {
    } catch {
        violation("CgroupMount.parse threw \(type(of: error)), not ParseError: \(error)")
    }

    do {
        let path = try CgroupPath.validate(text)
        // Bytes, as the kernel sees the path.
        let parts = Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let climbs = parts.contains { $0.elementsEqual("..".utf8) || $0.elementsEqual(".".utf8) }
        if path.utf8.first == UInt8(ascii: "/") || climbs || path.utf8.contains(0) || path.utf8.contains(10) {
            violation("CgroupPath.validate accepted '\(path)'")
        }
    } catch is ParseError {
    } catch is CgroupError {
    } catch {
        violation("CgroupPath.validate threw \(type(of: error)): \(error)")
    }
    return 0
}
