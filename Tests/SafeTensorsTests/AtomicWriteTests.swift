import Foundation
import Testing
@testable import SafeTensors
import Support

@Suite struct AtomicWriteTests {
    let specs = [TensorSpec(name: "w", dtype: .F32, shape: [64, 64]), TensorSpec(name: "b", dtype: .F32, shape: [64])]

    func write(_ target: String, force: Bool = false, inputs: [String] = [], failAfter: Int? = nil) throws {
        let out = try AtomicOutputDirectory(target: target, force: force, inputs: inputs)
        let w = try CheckpointWriter(output: out, tensors: specs, maxShardBytes: nil)
        w.failAfter = failAfter
        try w.writeTensors { spec, stream in
            let bytes = [UInt8](repeating: 1, count: stream.expected)
            try bytes.withUnsafeBytes { try stream.write($0) }
        }
        try out.writeFile("config.json", contents: Array("{}".utf8))
        try out.commit()
    }

    func entries(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? [] }

    @Test func existingOutputIsRefusedUnlessForced() throws {
        let tmp = makeTempDir(); defer { cleanup(tmp) }
        try write(tmp + "/out")
        let e = thrownError { try write(tmp + "/out") }
        #expect(e.map(caseName) == "outputExists")
        FileManager.default.createFile(atPath: tmp + "/out/stale.txt", contents: Data("x".utf8))
        try write(tmp + "/out", force: true)
        #expect(entries(tmp + "/out") == ["config.json", "model.safetensors"])
        #expect(entries(tmp) == ["out"])
    }

    @Test func outputEqualToInsideOrContainingAnInputIsRefused() throws {
        let tmp = makeTempDir(); defer { cleanup(tmp) }
        try write(tmp + "/in")
        for target in [tmp + "/in", tmp + "/in/", tmp + "/in/sub", tmp + "/./in/../in/sub/deeper"] {
            let e = thrownError { try write(target, force: true, inputs: [tmp + "/in"]) }
            #expect(e.map(caseName) == "outputOverlapsInput", "\(target)")
        }
        // An output that contains the input (with --force it would delete it).
        let e = thrownError { try write(tmp, force: true, inputs: [tmp + "/in"]) }
        #expect(e.map(caseName) == "outputOverlapsInput")
        #expect(entries(tmp + "/in") == ["config.json", "model.safetensors"])
    }

    @Test func simulatedFullDiskReportsAndRemovesTemporaries() throws {
        let tmp = makeTempDir(); defer { cleanup(tmp) }
        let e = thrownError { try write(tmp + "/out", failAfter: 5000) }
        #expect(isWriteFailure(e), "\(String(describing: e))")
        #expect("\(e!)".contains("No space left on device"))
        #expect(entries(tmp).isEmpty, "left behind: \(entries(tmp))")
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let tmp = makeTempDir(); defer { cleanup(tmp) }
        // PID 2^22+1 exceeds Linux's pid_max ceiling, so no live process has it.
        let stale = tmp + "/.out.lep-tmp-4194305-0"
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        try write(tmp + "/out")
        #expect(entries(tmp) == ["out"])
    }

    /// A real full file system: a 1 MiB tmpfs, when this process may mount one (root in a container).
    @Test func realFullDiskOnTmpfs() throws {
        let mnt = makeTempDir("lep-tmpfs"); defer { cleanup(mnt) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]
        mount.standardError = FileHandle.nullDevice
        try? mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            print("note: cannot mount a tmpfs here: real full-disk test skipped (the simulated one ran)")
            return
        }
        defer {
            let u = Process(); u.executableURL = URL(fileURLWithPath: "/bin/umount"); u.arguments = [mnt]
            try? u.run(); u.waitUntilExit()
        }
        let big = [TensorSpec(name: "w", dtype: .F32, shape: [1024, 1024])]  // 4 MiB > 1 MiB
        let e = thrownError {
            let out = try AtomicOutputDirectory(target: mnt + "/out", force: false, inputs: [])
            let w = try CheckpointWriter(output: out, tensors: big, maxShardBytes: nil)
            try w.writeTensors { _, stream in
                let chunk = [UInt8](repeating: 3, count: 1 << 16)
                while stream.written < stream.expected { try chunk.withUnsafeBytes { try stream.write($0) } }
            }
            try out.commit()
        }
        #expect(isWriteFailure(e), "\(String(describing: e))")
        #expect("\(e!)".contains("No space left on device"), "\(String(describing: e))")
        #expect(entries(mnt).isEmpty, "left behind: \(entries(mnt))")
    }
}

/// True when `error` is a failed write reported through the safetensors writer.
private func isWriteFailure(_ error: (any Error)?) -> Bool {
    if case .file(.writeFailed)? = error as? SafeTensorsError { return true }
    return false
}
