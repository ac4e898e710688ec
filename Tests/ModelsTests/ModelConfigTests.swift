import Foundation
import Testing
import LEPJSON
@testable import Models
@testable import SafeTensors
import TestSupport

@Suite struct ModelConfigTests {
    static let base =
        #"{"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":128,"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-5,"rope_theta":500000.0,"eos_token_id":[1,2],"bos_token_id":0}"#

    func parse(_ patch: [String: String]) throws -> ModelConfig {
        var o = try JSONParser.parse(Self.base).object!
        for (k, v) in patch { o[k] = v == "DELETE" ? nil : try JSONParser.parse(v) }
        return try ModelConfig(object: o, path: "config.json")
    }

    @Test func parsesTheKeysThatMatter() throws {
        let c = try parse([:])
        #expect(c.family == .llama && c.headDim == 16 && c.numKeyValueHeads == 2 && c.eosTokenIds == [1, 2])
        #expect(c.ropeTheta == 500000 && c.ropeScaling == .none && !c.tieWordEmbeddings)
        let m = try parse(["model_type": "\"mistral\"", "architectures": "[\"MistralForCausalLM\"]", "sliding_window": "4096", "eos_token_id": "2"])
        #expect(m.slidingWindow == 4096 && m.eosTokenIds == [2])
        let r = try parse(["rope_scaling": #"{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}"#])
        #expect(r.ropeScaling == .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192))
        #expect(try parse(["rope_scaling": #"{"type":"yarn","factor":4}"#]).ropeScaling == .unsupported(type: "yarn"))
        #expect(try parse(["head_dim": "32"]).headDim == 32)
        #expect(try parse(["num_key_value_heads": "DELETE"]).numKeyValueHeads == 4)
    }

    @Test func errorsNameTheKey() throws {
        let cases: [([String: String], ModelError)] = [
            (["hidden_size": "DELETE"], .missingKey(path: "config.json", key: "hidden_size")),
            (["hidden_size": "\"64\""], .invalidValue(path: "config.json", key: "hidden_size", reason: "expected an integer, found string")),
            (["num_hidden_layers": "0"], .invalidValue(path: "config.json", key: "num_hidden_layers", reason: "must be positive, found 0")),
            (["vocab_size": "12.5"], .invalidValue(path: "config.json", key: "vocab_size", reason: "expected an integer, found 12.5")),
            (["num_key_value_heads": "3"], .inconsistent(path: "config.json", reason: "num_attention_heads 4 is not a multiple of num_key_value_heads 3")),
            (["hidden_size": "66"], .inconsistent(path: "config.json", reason: "hidden_size 66 is not divisible by num_attention_heads 4 and no head_dim is given")),
            (["eos_token_id": "500"], .inconsistent(path: "config.json", reason: "special token id 500 is outside vocab_size 128")),
            (["sliding_window": "16"], .inconsistent(path: "config.json", reason: "sliding_window is set but model_type is llama (Mistral uses sliding windows)")),
            (["model_type": "\"gpt2\""], .unsupportedArchitecture(path: "config.json", modelType: "gpt2", architectures: ["LlamaForCausalLM"])),
            (["rope_scaling": #"{"rope_type":"llama3","factor":8.0}"#], .missingKey(path: "config.json", key: "rope_scaling.low_freq_factor"))
        ]
        for (patch, want) in cases {
            #expect(throws: want) { try parse(patch) }
        }
        #expect(throws: ModelError.self) { try ModelConfig.parse(Array("{".utf8), path: "c.json") }
    }

    /// Our layout must name and shape tensors exactly as transformers saves them.
    @Test func layoutMatchesTransformersStateDict() throws {
        let dir = SharedData.fixtures + "/safetensors/tiny_llama_single"
        let config = try ModelConfig.load(directory: dir)
        let checkpoint = try Checkpoint(path: dir)
        let expected = TensorLayout.expected(for: config)
        #expect(expected.map(\.name) == checkpoint.tensorNames)
        for e in expected { #expect(try checkpoint.info(e.name).shape == e.shape, "\(e.name)") }
        #expect(config.parameterCount == 6736)  // transformers' index total_parameters
    }
}
