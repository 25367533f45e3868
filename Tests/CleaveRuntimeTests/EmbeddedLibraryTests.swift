import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// A cleave with no libcleave-teardown.so beside it (what a plain `swift build` gives) still
/// injects its helper: it writes the library it carries under /run/cleave/lib/<digest>/.
/// Serialized: the second test changes that shared directory.
@Suite("embedded teardown library (swift build)", .serialized,
       .enabled(if: TestEnvironment.hasCgroup2 && geteuid() == 0, "needs cgroup2 and root"))
struct EmbeddedLibraryTests {
    /// cleave copied alone into a scratch directory, so locate() finds nothing installed.
    private static func lonelyCleave() throws -> (binary: String, scratch: String) {
        let scratch = "/tmp/cleave-test-embedded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdir(scratch, 0o700) == 0)
        let copy = try ChildProcess(["/bin/cp", TestEnvironment.cleave, scratch + "/cleave"]).wait()
        #expect(copy.status == 0, "cp: \(copy.stderr)")
        return (scratch + "/cleave", scratch)
    }

    /// Runs a shell that prints its LD_PRELOAD and the names of its children (the helper is one).
    private static func runShowingHelper(_ cleave: String) throws -> (status: Int32, preload: String, children: [String], stderr: String) {
        let path = TestEnvironment.uniqueCgroupPath("embedded")
        defer { TestEnvironment.removeCgroup(path) }
        let script = #"echo "$LD_PRELOAD"; for c in $(cat /proc/$$/task/*/children); do cat /proc/$c/comm 2>/dev/null; done; exit 0"#
        let result = try ChildProcess([cleave, "run", "--cgroup", path, "--teardown", "async", "--", "sh", "-c", script],
                                      environment: ["CLEAVE_TEARDOWN_LIBRARY": ""]).wait()
        let lines = result.stdout.split(separator: "\n").map(String.init)
        return (result.status, lines.first ?? "", Array(lines.dropFirst()), result.stderr)
    }

    @Test("with no library installed, cleave run --teardown async injects the copy cleave carries")
    func helperFromEmbeddedLibrary() throws {
        let (cleave, scratch) = try Self.lonelyCleave()
        defer { TestEnvironment.removeTree(scratch) }
        let run = try Self.runShowingHelper(cleave)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.preload.hasPrefix("/run/cleave/lib/") && run.preload.hasSuffix("/libcleave-teardown.so"), "LD_PRELOAD=\(run.preload)")
        #expect(run.children.contains { $0.hasPrefix("cleanup/") }, "children: \(run.children), stderr: \(run.stderr)")
        #expect(!run.stderr.contains("not found"), "stderr: \(run.stderr)")
        var st = stat()
        #expect(lstat(run.preload, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_uid == 0 && st.st_mode & 0o022 == 0)
    }

    @Test("a symlink planted at the library's name is replaced, never written through; an unsafe directory is refused")
    func plantedSymlinkAndUnsafeDirectory() throws {
        let (cleave, scratch) = try Self.lonelyCleave()
        defer { TestEnvironment.removeTree(scratch) }
        let first = try Self.runShowingHelper(cleave)
        let library = first.preload
        try #require(library.hasPrefix("/run/cleave/lib/"), "LD_PRELOAD=\(library)")
        let directory = String(library[..<library.lastIndex(of: "/")!])

        // Someone plants a symlink to a file of theirs where the library goes.
        let victim = scratch + "/victim"
        let fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = "precious\n".withCString { write(fd, $0, 9) }
        close(fd)
        unlink(library)
        #expect(symlink(victim, library) == 0)
        let second = try Self.runShowingHelper(cleave)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(FileIO.read(victim) == "precious\n", "the symlink's target was written through")
        var st = stat()
        #expect(lstat(library, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG, "the library is a regular file again")
        #expect(second.children.contains { $0.hasPrefix("cleanup/") }, "children: \(second.children)")

        // A directory others may write to is not trusted: no injection, synchronous teardown with a warning.
        #expect(chmod(directory, 0o777) == 0)
        defer { chmod(directory, 0o755) }
        let third = try Self.runShowingHelper(cleave)
        #expect(third.status == 0, "stderr: \(third.stderr)")
        #expect(third.preload.isEmpty, "LD_PRELOAD=\(third.preload)")
        #expect(!third.children.contains { $0.hasPrefix("cleanup/") }, "children: \(third.children)")
        #expect(third.stderr.contains("synchronous teardown"), "stderr: \(third.stderr)")
    }
}
