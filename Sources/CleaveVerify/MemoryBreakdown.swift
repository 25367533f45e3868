import CleaveCgroups
import CleaveRuntime
import CleaveSystem

/// memory.stat split into what the teardown must free and what stays.
///
/// A process's own memory — anonymous pages, its kernel stacks, page tables,
/// socket buffers and the unreclaimable slab of its mm, VMAs and task — is
/// freed when its address space goes: that is the teardown's work, and verify
/// judges the release on it. Page cache (`file`: the program's binary, its
/// libraries, the files it read) and reclaimable slab (their dentries and
/// inodes) belong to no process: they stay charged to the cgroup after every
/// process is gone, until reclaimed or the cgroup is removed (the kernel then
/// moves the charge to the parent). verify reports them apart.
struct MemoryBreakdown {
    /// The memory.stat keys summed into `process`; a key the kernel lacks counts 0
    /// (sec_pagetables exists from 6.2).
    static let processKeys = ["anon", "kernel_stack", "pagetables", "sec_pagetables", "sock", "slab_unreclaimable"]
    static let cacheKeys = ["file", "slab_reclaimable"]

    var process: UInt64
    var cache: UInt64

    /// nil without a memory controller (no memory.stat). memory.stat is
    /// hierarchical: it covers verify's held/ child and its frozen helpers.
    static func read(_ cgroup: Cgroup) throws -> MemoryBreakdown? {
        guard let text = try cgroup.read("memory.stat") else { return nil }
        let stat: [String: UInt64]
        do { stat = try StatParsers.flatKeyed(text) } catch {
            throw CgroupError(operation: "parse", path: cgroup.path + "/memory.stat", message: "\(error)")
        }
        return MemoryBreakdown(process: processKeys.reduce(0) { $0 + (stat[$1] ?? 0) },
                               cache: cacheKeys.reduce(0) { $0 + (stat[$1] ?? 0) })
    }

    static var processDescription: String { processKeys.joined(separator: "+") }
    static var cacheDescription: String { cacheKeys.joined(separator: "+") }
}
