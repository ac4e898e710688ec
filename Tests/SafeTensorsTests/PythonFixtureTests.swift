import Foundation
import Testing
@testable import SafeTensors
import TestSupport

/// Files written by Python `safetensors` / `transformers` (scripts/fixtures/gen_safetensors.py).
@Suite struct PythonFixtureTests {
    let dir = SharedData.fixtures + "/safetensors"

    @Test func readsEveryDtypeWrittenByPython() throws {
        let file = try SafeTensorsFile(path: dir + "/all_dtypes.safetensors")
        let expected = try readJSON(dir + "/all_dtypes.expected.json") as! [String: [String: Any]]
        #expect(Set(file.names) == Set(expected.keys))
        #expect(file.header.metadata == ["format": "pt"])
        for (name, e) in expected {
            let view = try file.view(name)
            #expect(view.shape == (e["shape"] as! [Int]), "shape of \(name)")
            // Raw bytes are exactly Python's.
            #expect(Data(view.bytes) == Data(hex: e["bytes_hex"] as! String), "bytes of \(name)")
            guard let values = e["values"] as? [Any] else { continue }
            let got = try view.floats()
            #expect(got.count == values.count, "count of \(name)")
            for (i, v) in values.enumerated() {
                let want: Double = (v as? String).map(parseExpected) ?? (name == "u64" ? Double((v as! NSNumber).uint64Value) : Double((v as! NSNumber).int64Value))
                let g = Double(got[i])
                if want.isNaN { #expect(g.isNaN, "\(name)[\(i)]"); continue }
                // Integers beyond 2^24 lose precision in Float; compare as Float.
                #expect(Float(want) == got[i] || (want.isInfinite && g == want), "\(name)[\(i)]: \(got[i]) vs \(want)")
            }
        }
    }

    @Test func writerBytesEqualPythonSafetensors() throws {
        for fixture in ["all_dtypes.safetensors", "no_metadata.safetensors"] {
            let original = try SafeTensorsFile(path: dir + "/" + fixture)
            let tmp = makeTempDir()
            defer { cleanup(tmp) }
            let specs = original.tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
            let out = tmp + "/out.safetensors"
            let writer = try SafeTensorsWriter(path: out, tensors: specs, metadata: original.header.metadata.isEmpty ? nil : original.header.metadata)
            while let next = writer.nextTensor {
                let view = try original.view(next.name)
                try writer.writeTensor(next.name) { stream in try stream.write(view.bytes) }
            }
            try writer.finish()
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + fixture))
            let b = try Data(contentsOf: URL(fileURLWithPath: out))
            #expect(a == b, "\(fixture): lep's bytes differ from Python's (sizes \(a.count) vs \(b.count))")
        }
    }

    @Test func readsTransformersShardedCheckpoint() throws {
        let sharded = try Checkpoint(path: dir + "/tiny_llama_sharded")
        let single = try Checkpoint(path: dir + "/tiny_llama_single")
        #expect(sharded.files.count == 4)
        #expect(single.files.count == 1)
        #expect(sharded.tensorNames == single.tensorNames)
        let expected = try readJSON(dir + "/tiny_llama.expected.json") as! [String: [String]]
        #expect(Set(expected.keys) == Set(sharded.tensorNames))
        for name in sharded.tensorNames {
            let a = try sharded.view(name).floats()
            let b = try single.view(name).floats()
            #expect(a == b, "\(name) differs between shards and single file")
            let want = expected[name]!.map { Float(parseExpected($0)) }
            #expect(a == want, "\(name) differs from transformers' state dict")
        }
    }

    @Test func opensASingleFileDirectly() throws {
        let c = try Checkpoint(path: dir + "/tiny_llama_single/model.safetensors")
        #expect(c.tensorCount == 21)
        #expect(c.indexPath == nil)
    }
}
