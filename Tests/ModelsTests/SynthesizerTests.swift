import Foundation
import Testing
@testable import Models
@testable import SafeTensors

@Suite struct SynthesizerTests {
    func tmp() -> String {
        let p = NSTemporaryDirectory() + "lep-synth-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    @Test(arguments: Synthesizer.Preset.allCases)
    func presetsHaveTheFamilyShapes(_ preset: Synthesizer.Preset) throws {
        let config = try ModelConfig(object: try Synthesizer.config(preset, .init()), path: preset.rawValue)
        switch preset {
        case .llama3_8b:
            #expect(config.vocabSize == 128256 && config.hiddenSize == 4096 && config.intermediateSize == 14336)
            #expect(config.numHiddenLayers == 32 && config.numKeyValueHeads == 8 && config.ropeTheta == 500000)
            #expect(config.parameterCount == 8_030_261_248)  // Meta-Llama-3-8B
        case .mistral7b:
            #expect(config.vocabSize == 32000 && config.slidingWindow == 4096 && config.ropeTheta == 10000)
            #expect(config.parameterCount == 7_241_732_096)  // Mistral-7B-v0.1
        case .tinyLlama3:
            #expect(config.numKeyValueHeads < config.numAttentionHeads)
            if case .llama3 = config.ropeScaling {} else { Issue.record("tiny-llama3 needs llama3 rope scaling") }
        case .tinyMistral:
            #expect(config.slidingWindow == 16)
        }
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let dir = tmp(); defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Synthesizer.Options()
        o.seed = 7
        _ = try Synthesizer.synthesize(.tinyMistral, options: o, output: dir + "/a")
        _ = try Synthesizer.synthesize(.tinyMistral, options: o, output: dir + "/b")
        o.seed = 8
        _ = try Synthesizer.synthesize(.tinyMistral, options: o, output: dir + "/c")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b/model.safetensors"))
        let c = try Data(contentsOf: URL(fileURLWithPath: dir + "/c/model.safetensors"))
        #expect(a == b)
        #expect(a != c)
        // Statistics: mean ≈ 0, std ≈ 0.02, norms are ones.
        let ck = try Checkpoint(path: dir + "/a")
        let w = try ck.view("model.embed_tokens.weight").floats()
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        #expect(abs(mean) < 0.001 && abs(std - 0.02) < 0.001, "mean \(mean) std \(std)")
        #expect(try ck.view("model.norm.weight").floats().allSatisfy { $0 == 1 })
    }

    @Test func badOverridesAreRejected() {
        var o = Synthesizer.Options()
        o.hidden = 66
        // The option is named neutrally; `lep synth` words it as --hidden.
        #expect(throws: ModelError.invalidOption(option: "hidden", reason: "66 must be a positive multiple of 8 (4 heads with an even head size)")) {
            try Synthesizer.config(.tinyLlama3, o)
        }
    }
}
