import Glibc
import Testing
import CleaveSystem
import CleaveTestSupport

/// AtomicFile.write replacing what is at the final name (by exchange where the name exists).
@Suite("atomic file writes")
struct AtomicFileTests {
    private static func scratchDirectory() -> String {
        let dir = "/tmp/cleave-test-atomic-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o700)
        return dir
    }

    private static func entries(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    @Test("an existing file is replaced whole; a new one is created; no temporary file is left")
    func replacesAndCreates() throws {
        let dir = Self.scratchDirectory()
        defer { TestEnvironment.removeTree(dir) }
        try AtomicFile.write(Array("first".utf8), to: dir + "/record.json")
        #expect(FileIO.read(dir + "/record.json") == "first")
        try AtomicFile.write(Array("second, longer".utf8), to: dir + "/record.json")
        #expect(FileIO.read(dir + "/record.json") == "second, longer")
        try AtomicFile.write(Array("3".utf8), to: dir + "/record.json")
        #expect(FileIO.read(dir + "/record.json") == "3")
        #expect(Self.entries(dir) == ["record.json"])
    }

    @Test("a symlink at the final name is replaced, its target untouched; a directory there is an error and stays")
    func plantedEntries() throws {
        let dir = Self.scratchDirectory()
        defer { TestEnvironment.removeTree(dir) }
        try AtomicFile.write(Array("target".utf8), to: dir + "/target")
        #expect(symlink(dir + "/target", dir + "/link.json") == 0)
        try AtomicFile.write(Array("mine".utf8), to: dir + "/link.json")
        var info = stat()
        #expect(lstat(dir + "/link.json", &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
        #expect(FileIO.read(dir + "/link.json") == "mine")
        #expect(FileIO.read(dir + "/target") == "target")

        #expect(mkdir(dir + "/dir.json", 0o700) == 0)
        #expect(throws: (any Error).self) { try AtomicFile.write(Array("x".utf8), to: dir + "/dir.json") }
        #expect(lstat(dir + "/dir.json", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
        #expect(Self.entries(dir) == ["dir.json", "link.json", "target"])
    }
}
