import Foundation
import Support
import Testing

/// The one whole-file reader (tokenizer files, configs, task files).
struct WholeFileTests {
    @Test func readsEveryByteOfALargeFile() throws {
        let path = NSTemporaryDirectory() + "/lep-wholefile-\(getpid()).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // more than one read chunk
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        #expect(try WholeFile.read(path).get() == bytes)
    }

    @Test func aMissingFileSaysWhy() {
        #expect(WholeFile.read("/nonexistent-lep/x.json") == .failure(WholeFile.Failure(reason: "No such file or directory")))
    }
}
