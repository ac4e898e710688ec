import Foundation
import Testing
@testable import SafeTensors
import TestSupport

/// Inconsistent sharded checkpoints, made by editing a copy of the transformers-written fixture.
@Suite struct ShardedIndexTests {
    func copyFixture() throws -> String {
        let tmp = makeTempDir()
        try FileManager.default.copyItem(atPath: SharedData.fixtures + "/safetensors/tiny_llama_sharded", toPath: tmp + "/m")
        return tmp
    }

    func editIndex(_ dir: String, _ edit: (inout [String: String]) -> Void) throws {
        let path = dir + "/model.safetensors.index.json"
        var root = try readJSON(path) as! [String: Any]
        var map = root["weight_map"] as! [String: String]
        edit(&map)
        root["weight_map"] = map
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: path))
    }

    @Test func tensorListedButAbsentFromItsShard() throws {
        let tmp = try copyFixture(); defer { cleanup(tmp) }
        try editIndex(tmp + "/m") { $0["model.norm.weight"] = "model-00001-of-00004.safetensors" }
        let e = thrownError { _ = try Checkpoint(path: tmp + "/m") }
        #expect(e.map(caseName) == "tensorMissingFromShard", "\(String(describing: e))")
    }

    @Test func tensorInTwoShards() throws {
        let tmp = try copyFixture(); defer { cleanup(tmp) }
        // Replace shard 4 by a file holding lm_head.weight and a copy of model.norm.weight (in shard 3).
        let four = try SafeTensorsFile(path: tmp + "/m/model-00004-of-00004.safetensors")
        let three = try SafeTensorsFile(path: tmp + "/m/model-00003-of-00004.safetensors")
        let lm = try four.view("lm_head.weight"), norm = try three.view("model.norm.weight")
        let path = tmp + "/m/new.safetensors"
        let w = try SafeTensorsWriter(path: path, tensors: [lm, norm].map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }, metadata: nil)
        for v in [lm, norm].sorted(by: { $0.name < $1.name }) { try w.writeTensor(v.name) { try $0.write(v.bytes) } }
        try w.finish()
        try FileManager.default.removeItem(atPath: tmp + "/m/model-00004-of-00004.safetensors")
        try FileManager.default.moveItem(atPath: path, toPath: tmp + "/m/model-00004-of-00004.safetensors")
        let e = thrownError { _ = try Checkpoint(path: tmp + "/m") }
        #expect(e.map(caseName) == "tensorInTwoShards", "\(String(describing: e))")
    }

    @Test func tensorInShardButNotInIndex() throws {
        let tmp = try copyFixture(); defer { cleanup(tmp) }
        try editIndex(tmp + "/m") { $0.removeValue(forKey: "model.norm.weight") }
        let e = thrownError { _ = try Checkpoint(path: tmp + "/m") }
        #expect(e.map(caseName) == "tensorNotInIndex")
    }

    @Test func missingShardFile() throws {
        let tmp = try copyFixture(); defer { cleanup(tmp) }
        try FileManager.default.removeItem(atPath: tmp + "/m/model-00002-of-00004.safetensors")
        let e = thrownError { _ = try Checkpoint(path: tmp + "/m") }
        #expect(e as? SafeTensorsError == .missingShard(index: tmp + "/m/model.safetensors.index.json", shard: "model-00002-of-00004.safetensors"))
    }

    @Test func corruptShardIsNamed() throws {
        let tmp = try copyFixture(); defer { cleanup(tmp) }
        let shard = tmp + "/m/model-00003-of-00004.safetensors"
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: shard))
        try h.truncate(atOffset: 100)
        try h.close()
        let e = thrownError { _ = try Checkpoint(path: tmp + "/m") }
        #expect("\(e!)".contains("model-00003-of-00004.safetensors"))
    }

    @Test func indexShardNameEscapingTheDirectory() throws {
        let tmp = try copyFixture(); defer { cleanup(tmp) }
        try editIndex(tmp + "/m") { $0["model.norm.weight"] = "../evil.safetensors" }
        let e = thrownError { _ = try Checkpoint(path: tmp + "/m") }
        #expect(e.map(caseName) == "invalidIndex")
    }

    @Test func emptyDirectoryHasNoCheckpoint() throws {
        let tmp = makeTempDir(); defer { cleanup(tmp) }
        let e = thrownError { _ = try Checkpoint(path: tmp) }
        #expect(e as? SafeTensorsError == .noCheckpoint(path: tmp))
    }
}
