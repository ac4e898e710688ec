import Foundation
import GGUFConversion
import Testing
import TestSupport
import Tokenizers

/// llama.cpp's own vocabulary file and tokenizer test vectors (../shared/realdata; skipped when absent).
@Suite(.enabled(if: SharedData.available, "needs ../shared/realdata (absent): skipped"))
struct GGUFRealDataTests {
    static var vocab: String { SharedData.realdata + "/llama_cpp_vocab" }

    /// (text, ids) pairs of a llama.cpp vocab test (ids without BOS).
    static func vectors(_ name: String) throws -> [(String, [Int])] {
        let inp = try String(contentsOfFile: vocab + "/\(name).inp", encoding: .utf8)
        let out = try String(contentsOfFile: vocab + "/\(name).out", encoding: .utf8)
        var texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: " ").compactMap { Int($0) } }
        return texts.enumerated().map { ($1, $0 < lines.count ? lines[$0] : []) }
    }

    @Test func llamaCppVocabularyFileImportsToATokenizerThatMatchesLlamaCpp() throws {
        let t = NSTemporaryDirectory() + "lep-gguf-vocab-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: t) }
        let s = try GGUFImporter.convert(input: Self.vocab + "/ggml-vocab-llama-spm.gguf", output: t, options: .init())
        #expect(s.tensors == 0 && s.files.contains("tokenizer.model"))
        let tok = try loadTokenizer(directory: t)
        let v = try Self.vectors("ggml-vocab-llama-spm.gguf")
        #expect(v.count == 46)
        var bad: [String] = []
        for (text, ids) in v where tok.encode(text, addSpecialTokens: false) != ids { bad.append(text.debugDescription) }
        #expect(bad.isEmpty, "texts where the imported tokenizer differs from llama.cpp: \(bad)")
        #expect(tok.encode("Hello", addSpecialTokens: true).first == 1, "add_bos_token carried")
        // The pieces are LLaMA-2's tokenizer.model's (piece, score, type).
        let a = try SentencePieceModel(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: t + "/tokenizer.model"))), path: "imported")
        let b = try SentencePieceModel(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: SharedData.realdata + "/llama2/tokenizer.model"))), path: "llama2")
        #expect(a.pieces == b.pieces && a.byteFallback == b.byteFallback)
    }
}
