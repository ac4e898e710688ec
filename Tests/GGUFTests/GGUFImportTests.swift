import Foundation
import GGUF
@testable import GGUFConversion
import LEPJSON
import Models
import SafeTensors
import Testing
import Support
import TestSupport
import Tokenizers

/// `lep convert FILE.gguf DIR` against what llama.cpp's gguf package and transformers' own GGUF
/// loader make of the same files (fixtures/gguf, scripts/fixtures/gen_gguf.py).
@Suite struct GGUFImportTests {
    static let dir = SharedData.fixtures + "/gguf"

    func temp() throws -> String {
        let p = NSTemporaryDirectory() + "lep-gguf-import-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    func json(_ path: String) throws -> JSONValue { try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) }
    func ints(_ v: JSONValue?) -> [Int] { (v?.array ?? []).compactMap { $0.number?.int64.map { Int($0) } } }

    @Test(arguments: [("llama-bpe", "hf-bpe"), ("mistral-spm", "hf-spm")])
    func importEqualsGGUFAndTransformers(name: String, source: String) throws {
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let out = t + "/model"
        let s = try GGUFImporter.convert(input: Self.dir + "/\(name).gguf", output: out, options: .init())
        #expect(s.dtype == .F32 && s.tensors == 21)

        // Tensors: gguf's dequantised values with the q/k permutation undone, bit for bit.
        let expected = try SafeTensorsFile(path: Self.dir + "/\(name).expected.safetensors")
        let got = try Checkpoint(path: out)
        #expect(Set(got.tensorNames) == Set(expected.header.tensors.map(\.name)))
        for e in expected.header.tensors {
            let want = try expected.view(e.name).floats(), have = try got.view(e.name).floats()
            #expect(try got.info(e.name).shape == e.shape, "\(e.name)")
            let bad = zip(have, want).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
            #expect(bad == nil, "\(name) \(e.name): element \(bad?.offset ?? -1)")
        }

        // config.json: the source model's hyper-parameters (llama3 rope scaling recovered from rope_freqs).
        let cfg = try ModelConfig.load(directory: out), src = try ModelConfig.load(directory: Self.dir + "/" + source)
        #expect(cfg.hiddenSize == src.hiddenSize && cfg.intermediateSize == src.intermediateSize && cfg.numHiddenLayers == src.numHiddenLayers)
        #expect(cfg.numAttentionHeads == src.numAttentionHeads && cfg.numKeyValueHeads == src.numKeyValueHeads && cfg.headDim == src.headDim)
        #expect(cfg.vocabSize == src.vocabSize && cfg.rmsNormEps == src.rmsNormEps && cfg.ropeTheta == src.ropeTheta)
        #expect(cfg.slidingWindow == src.slidingWindow && cfg.tieWordEmbeddings == src.tieWordEmbeddings)
        // With head_dim 8 only 4 frequencies constrain the llama3 parameters, so several sets fit:
        // the recovered one must give the source's factors (what the forward pass uses).
        func factors(_ c: ModelConfig) -> [Float] {
            guard case .llama3(let f, let lo, let hi, let orig) = c.ropeScaling else { return [] }
            return Llama3RopeFactors.factors(theta: c.ropeTheta, headDim: c.headDim, .init(factor: f, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositionEmbeddings: orig))
        }
        #expect(factors(cfg) == factors(src))
        if name == "llama-bpe" { #expect(!factors(src).isEmpty) }
        #expect(cfg.bosTokenId == src.bosTokenId)

        // Tokenizer: byte-level BPE gives the ids of transformers' GGUF tokenizer (equal to the source
        // tokenizer's); SentencePiece the ids of sentencepiece on the source tokenizer.model (transformers
        // ignores its remove_extra_whitespaces, so it differs on runs of spaces).
        let ref = try json(Self.dir + "/\(name).expected.json")
        let tok = try loadTokenizer(directory: out)
        for c in ref["texts"]?.array ?? [] {
            let text = c["text"]?.string ?? ""
            let want = c["sentencepiece_ids"] != nil ? ints(c["sentencepiece_ids"]) : ints(c["ids"])
            #expect(tok.encode(text) == want, "\(name): '\(text)'")
        }
        // Chat template carried as chat_template.jinja, byte for byte.
        #expect(FileManager.default.contents(atPath: out + "/chat_template.jinja") == FileManager.default.contents(atPath: Self.dir + "/\(source)/chat_template.jinja"))

        // Logits of transformers' GGUF model loader (which ignores rope_freqs: compared without rope scaling).
        var raw = cfg.raw
        raw["rope_scaling"] = .null
        try Data((JSONWriter.pretty(.object(raw)) + "\n").utf8).write(to: URL(fileURLWithPath: out + "/config.json"))
        let model = try Transformer(directory: out)
        let ids = ints(ref["logits_ids"])
        let logits = try model.forward(ids, cache: model.makeCache(capacity: ids.count), logits: .all)
        let want = try SafeTensorsFile(path: Self.dir + "/\(name).logits.safetensors").view("logits").floats()
        #expect(logits.count == want.count)
        let worst = zip(logits, want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "\(name): max |lep − transformers| = \(worst)")
    }

    @Test func dtypeOptionAndAtomicRefusal() throws {
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        var o = GGUFImporter.Options()
        o.dtype = .BF16
        let s = try GGUFImporter.convert(input: Self.dir + "/llama-bpe.gguf", output: t + "/bf16", options: o)
        #expect(s.dtype == .BF16)
        let c = try Checkpoint(path: t + "/bf16")
        #expect(try c.info("model.embed_tokens.weight").dtype == .BF16)
        #expect(try ModelConfig.load(directory: t + "/bf16").torchDtype == "bfloat16")
        #expect(throws: FileError.outputExists(path: t + "/bf16")) {
            try GGUFImporter.convert(input: Self.dir + "/llama-bpe.gguf", output: t + "/bf16", options: .init())
        }
        // A file without llama metadata names what is missing; nothing is written.
        #expect(throws: GGUFError.conversion(path: Self.dir + "/types.gguf", reason: "metadata 'llama.block_count' is missing")) {
            try GGUFImporter.convert(input: Self.dir + "/types.gguf", output: t + "/types", options: .init())
        }
        #expect(!FileManager.default.fileExists(atPath: t + "/types"))
    }
}
