import Foundation
import Support
import Testing

/// The atomic output directory on its own (the safetensors writer's use of it is tested in SafeTensorsTests).
struct AtomicOutputDirectoryTests {
    func tempDir() throws -> String {
        let path = NSTemporaryDirectory() + "lep-atomic-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func filesAppearOnlyAtCommit() throws {
        let tmp = try tempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        FileManager.default.createFile(atPath: tmp + "/src.txt", contents: Data("carried".utf8))
        let out = try AtomicOutputDirectory(target: tmp + "/out", force: false, inputs: [tmp + "/src.txt"])
        try out.writeFile("a.json", contents: Array("{}".utf8))
        try out.copyFile(from: tmp + "/src.txt", as: "b.txt")
        #expect(!PathUtilities.exists(tmp + "/out"))
        try out.commit()
        #expect(PathUtilities.listDirectory(tmp + "/out") == ["a.json", "b.txt"])
        #expect(try WholeFile.read(tmp + "/out/b.txt").get() == Array("carried".utf8))
        #expect(PathUtilities.listDirectory(tmp) == ["out", "src.txt"])
    }

    @Test func copyingAFolderOrAMissingFileNamesIt() throws {
        let tmp = try tempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let out = try AtomicOutputDirectory(target: tmp + "/out", force: false, inputs: [])
        #expect(throws: FileError.cannotOpen(path: tmp, reason: "not a regular file")) { try out.copyFile(from: tmp, as: "x") }
        #expect(throws: FileError.cannotOpen(path: tmp + "/none", reason: "No such file or directory")) {
            try out.copyFile(from: tmp + "/none", as: "x")
        }
        out.abort()
        #expect(PathUtilities.listDirectory(tmp).isEmpty)
    }

    @Test func parentDirectoryOfEachKindOfPath() {
        #expect(PathUtilities.parentDirectory(of: "a/b/c") == "a/b")
        #expect(PathUtilities.parentDirectory(of: "/c") == "/")
        #expect(PathUtilities.parentDirectory(of: "c") == ".")
    }
}

/// The one single-file atomic write (tokenizer files, reports).
struct AtomicFileTests {
    @Test func replacesAFileWholeAndLeavesNoTemporary() throws {
        let dir = NSTemporaryDirectory() + "lep-atomicfile-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write(Array("old".utf8), to: dir + "/f.json")
        try AtomicFile.write(Array("new contents".utf8), to: dir + "/f.json")
        #expect(try WholeFile.read(dir + "/f.json").get() == Array("new contents".utf8))
        #expect(PathUtilities.listDirectory(dir) == ["f.json"])
        #expect(throws: FileError.self) { try AtomicFile.write([1], to: dir + "/missing/f.json") }
    }
}
