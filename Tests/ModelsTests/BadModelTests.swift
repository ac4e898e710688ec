import Foundation
import Models
import Testing

/// Bad checkpoints are refused with the exact error before any computation.
@Suite("Bad models are refused up front")
struct BadModelTests {
    /// A copy of a fixture model whose config.json has been edited by `edit`.
    func edited(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lep-bad-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: ForwardFixtures.modelDirectory(name), toPath: dir)
        let url = URL(fileURLWithPath: dir + "/config.json")
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&cfg)
        try JSONSerialization.data(withJSONObject: cfg).write(to: url)
        return dir
    }

    @Test("heads that do not divide into KV groups")
    func inconsistentHeads() throws {
        let dir = try edited("llama3-f32") { $0["num_attention_heads"] = 3 }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.inconsistent(path: dir + "/config.json", reason: "num_attention_heads 3 is not a multiple of num_key_value_heads 2")) {
            try Transformer(directory: dir)
        }
    }

    @Test("a layer the config promises is missing")
    func missingLayer() throws {
        let dir = try edited("llama3-f32") { $0["num_hidden_layers"] = 3 }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.missingTensor(path: dir, tensor: "model.layers.2.input_layernorm.weight")) {
            try Transformer(directory: dir)
        }
    }

    @Test("a shape that disagrees with the config")
    func shapeMismatch() throws {
        let dir = try edited("mistral-bf16") { $0["intermediate_size"] = 72 }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.shapeMismatch(path: dir, tensor: "model.layers.0.mlp.down_proj.weight", expected: [32, 72], found: [32, 64])) {
            try Transformer(directory: dir)
        }
    }

    @Test("untied config over a tied checkpoint: lm_head is missing")
    func missingHead() throws {
        let dir = try edited("mistral-f32") { $0["tie_word_embeddings"] = false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.missingTensor(path: dir, tensor: "lm_head.weight")) { try Transformer(directory: dir) }
    }

    @Test("unsupported rope_scaling types, in both spellings", arguments: ["rope_scaling", "rope_parameters"])
    func unsupportedRope(key: String) throws {
        let dir = try edited("llama3-f32") { cfg in
            cfg.removeValue(forKey: "rope_parameters")
            cfg[key] = ["rope_type": "yarn", "factor": 4.0, "rope_theta": 500000.0]
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelError.unsupportedRopeScaling(path: dir, type: "yarn")) { try Transformer(directory: dir) }
    }

    @Test("rope_parameters (transformers 5) and rope_theta (Hub) give the same RoPE")
    func ropeSpellings() throws {
        let dir = try edited("llama3-f32") { cfg in
            let p = cfg.removeValue(forKey: "rope_parameters") as! [String: Any]
            cfg["rope_theta"] = p["rope_theta"]
            var s = p
            s.removeValue(forKey: "rope_theta")
            cfg["rope_scaling"] = s
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try ModelConfig.load(directory: dir), b = try ModelConfig.load(directory: ForwardFixtures.modelDirectory("llama3-f32"))
        #expect(a.ropeTheta == 500000 && a.ropeScaling == b.ropeScaling && a.ropeTheta == b.ropeTheta)
        #expect(a.ropeScaling == .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192))
    }

    @Test("token ids outside the vocabulary and an overfull cache")
    func badTokens() throws {
        let model = try Transformer(directory: ForwardFixtures.modelDirectory("llama3-f32"))
        #expect(throws: ModelError.tokenOutOfRange(id: 256, vocabSize: 256)) {
            try model.forward([1, 256], cache: model.makeCache(capacity: 4))
        }
        #expect(throws: ModelError.sequenceLength(reason: "0 cached + 5 new positions exceed the KV cache capacity 4")) {
            try model.forward([1, 2, 3, 4, 5], cache: model.makeCache(capacity: 4))
        }
    }

    @Test("greedy decoding stops at an EOS id of generation_config.json")
    func stopsAtEOS() throws {
        let dir = ForwardFixtures.modelDirectory("llama3-f32")
        let model = try Transformer(directory: dir)
        #expect(try Transformer.stopIds(directory: dir, config: model.config) == [2, 3])
        let ref = try ForwardFixtures.Reference("llama3-f32")
        let prompt = Array(ref.inputIds.prefix(ref.greedyPromptLength))
        let stop = ref.greedyIds[5]
        let firstStop = ref.greedyIds.firstIndex(of: stop)!
        let out = try model.greedy(prompt: prompt, maxNewTokens: 32, stopIds: [stop])
        #expect(out == Array(ref.greedyIds.prefix(firstStop + 1)))
    }
}
