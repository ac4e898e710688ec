import Foundation
import Support
import Testing

/// The write-only file behind every checkpoint writer, buffered and with O_DIRECT: the same bytes
/// whatever the mix of small writes, writes larger than the buffer, in-buffer fills and copies from
/// another file, and a full disk reported as such.
struct FileSinkTests {
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "/lep-filesink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func pattern(_ n: Int, _ seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ $0 >> 9) } }

    @Test(arguments: [false, true])
    func everyKindOfWriteLandsInOrder(_ direct: Bool) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        let sourceBytes = Self.pattern(300_000, 9)
        #expect(FileManager.default.createFile(atPath: source, contents: Data(sourceBytes)))
        let fd = open(source, O_RDONLY)
        defer { close(fd) }
        #expect(fd >= 0)

        let path = dir + "/out.bin"
        let sink = try FileSink(path: path, capacity: 64 << 10, direct: direct)
        var expected: [UInt8] = []
        // A header-like odd start, then sizes around the alignment and the buffer, and beyond it.
        for (i, n) in [37, 1, 4095, 4097, 65_536, 65_535, 200_003, 3, 131_072].enumerated() {
            let bytes = Self.pattern(n, i)
            try sink.write(bytes)
            expected += bytes
        }
        try sink.copy(from: fd, offset: 13, count: 150_001)
        expected += sourceBytes[13..<150_014]
        try sink.withFreeSpace(max: 5000) { p, cap in
            let n = min(cap, 5000)
            for k in 0..<n { p.storeBytes(of: UInt8(truncatingIfNeeded: k), toByteOffset: k, as: UInt8.self) }
            expected += (0..<n).map { UInt8(truncatingIfNeeded: $0) }
            return n
        }
        try sink.write(Self.pattern(77, 99))
        expected += Self.pattern(77, 99)
        #expect(sink.position == expected.count)
        try sink.close()
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written.count == expected.count)
        let first = zip(written, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(first == nil, "direct \(direct): the file differs from the bytes written at byte \(first ?? -1)")
    }

    @Test(arguments: [false, true])
    func aFullDiskIsReported(_ direct: Bool) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sink = try FileSink(path: dir + "/out.bin", capacity: 16 << 10, failAfter: 50_000, direct: direct)
        #expect {
            for i in 0..<20 { try sink.write(Self.pattern(4099, i)) }
            try sink.close()
        } throws: { "\($0)".contains("No space left") }
    }
}
