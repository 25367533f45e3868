import CleaveCgroups
import Testing

/// ControllerSet does what Set<String> did, on random sets of names.
@Suite struct ControllerSetTests {
    static let pool = ["cpu", "memory", "pids", "io", "cpuset", "hugetlb", "rdma", "misc"]

    static func random() -> [String] {
        (0..<Int.random(in: 0...6)).map { _ in pool.randomElement()! }
    }

    @Test func setOperationsAsSetDoes() {
        for _ in 0..<500 {
            let a = Self.random(), b = Self.random()
            let x = ControllerSet(a), y = ControllerSet(b)
            #expect(x.names == Set(a).sorted())
            #expect(x.union(y).names == Set(a).union(b).sorted())
            #expect(x.intersection(y).names == Set(a).intersection(b).sorted())
            #expect(x.subtracting(y).names == Set(a).subtracting(b).sorted())
            #expect(x.isSuperset(of: y) == Set(a).isSuperset(of: b))
            #expect(x.count == Set(a).count && x.isEmpty == a.isEmpty)
            var z = x
            for name in b { z.insert(name) }
            #expect(z == x.union(y))
            #expect(Self.pool.allSatisfy { x.contains($0) == a.contains($0) })
        }
    }

    @Test func parsesControllerFiles() {
        #expect(ControllerSet.parse("cpuset cpu io memory hugetlb pids rdma misc\n").names
            == ["cpu", "cpuset", "hugetlb", "io", "memory", "misc", "pids", "rdma"])
        #expect(ControllerSet.parse("\n").isEmpty)
        #expect(ControllerSet.parse("").isEmpty)
        #expect(ControllerSet.parse("memory  pids\n") == ["pids", "memory"])
    }
}
