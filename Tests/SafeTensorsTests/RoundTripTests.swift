import Foundation
import Testing
@testable import SafeTensors
import Support

@Suite struct RoundTripTests {
    /// SplitMix64 for reproducible test data.
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func randomShapesAndDtypesRoundTrip(seed: UInt64) throws {
        var rng = RNG(state: seed)
        let dtypes: [DType] = [.F64, .F32, .F16, .BF16, .I64, .I32, .I16, .I8, .U8, .U16, .U32, .U64, .BOOL, .F8_E4M3, .F8_E5M2, .C64]
        var specs: [TensorSpec] = []
        var data: [String: [UInt8]] = [:]
        for i in 0..<(3 + rng.int(20)) {
            let rank = rng.int(4)
            let shape = (0..<rank).map { _ in rng.int(6) }
            let spec = TensorSpec(name: "t\(i).\(rng.int(1000))", dtype: dtypes[rng.int(dtypes.count)], shape: shape)
            specs.append(spec)
            data[spec.name] = (0..<(try spec.byteCount())).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        let tmp = makeTempDir()
        defer { cleanup(tmp) }
        let out = try AtomicOutputDirectory(target: tmp + "/model", force: false, inputs: [])
        let shardLimit = rng.int(2) == 0 ? nil : 64 + rng.int(256)
        let writer = try CheckpointWriter(output: out, tensors: specs, maxShardBytes: shardLimit)
        try writer.writeTensors { spec, stream in
            let bytes = data[spec.name]!
            // Exercise all three ways of supplying bytes.
            switch bytes.count % 3 {
            case 0: try bytes.withUnsafeBytes { try stream.write($0) }
            case 1:
                var k = 0
                while stream.written < stream.expected {
                    try stream.fill(max: 7) { p, cap in
                        let n = min(cap, bytes.count - k)
                        for j in 0..<n { p.storeBytes(of: bytes[k + j], toByteOffset: j, as: UInt8.self) }
                        k += n
                        return n
                    }
                }
            default:
                let src = tmp + "/src-\(spec.name)"
                FileManager.default.createFile(atPath: src, contents: Data([1, 2, 3] + bytes))
                let fd = open(src, O_RDONLY)
                defer { close(fd) }
                try stream.copy(fromFD: fd, offset: 3, count: bytes.count)
            }
        }
        try out.commit()
        let back = try Checkpoint(path: tmp + "/model")
        #expect(back.tensorCount == specs.count)
        for spec in specs {
            let v = try back.view(spec.name)
            #expect(v.dtype == spec.dtype && v.shape == spec.shape)
            #expect(Array(v.bytes) == data[spec.name]!, "\(spec.name)")
        }
        if writer.shards.count > 1 {
            let index = try readJSON(tmp + "/model/model.safetensors.index.json") as! [String: Any]
            let meta = index["metadata"] as! [String: Int]
            #expect(meta["total_size"] == writer.totalDataBytes)
        }
    }

    @Test func writerRefusesWrongOrderAndWrongSize() throws {
        let tmp = makeTempDir()
        defer { cleanup(tmp) }
        let specs = [TensorSpec(name: "a", dtype: .F32, shape: [2]), TensorSpec(name: "b", dtype: .F32, shape: [1])]
        let w = try SafeTensorsWriter(path: tmp + "/x.safetensors", tensors: specs, metadata: nil)
        #expect(throws: SafeTensorsError.self) { try w.writeTensor("b") { _ in } }
        let e = thrownError { try w.writeTensor("a") { s in try [UInt8](repeating: 0, count: 4).withUnsafeBytes { try s.write($0) } } }
        #expect(e.map(caseName) == "writerMisuse")
    }

    @Test func shardsFollowModelOrderAndRespectTheLimit() throws {
        let tmp = makeTempDir()
        defer { cleanup(tmp) }
        let names = ["lm_head.weight", "model.norm.weight", "model.layers.10.x", "model.layers.2.x", "model.embed_tokens.weight"]
        let specs = names.map { TensorSpec(name: $0, dtype: .F32, shape: [25]) }  // 100 bytes each
        let out = try AtomicOutputDirectory(target: tmp + "/m", force: false, inputs: [])
        let w = try CheckpointWriter(output: out, tensors: specs, maxShardBytes: 250)
        #expect(
            w.shards.map { $0.tensors.map(\.name) } == [
                ["model.embed_tokens.weight", "model.layers.2.x"], ["model.layers.10.x", "model.norm.weight"], ["lm_head.weight"]
            ])
        #expect(w.shards.map(\.fileName) == ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"])
        out.abort()
    }
}
