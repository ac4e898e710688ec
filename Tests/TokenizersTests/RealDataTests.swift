import Foundation
import Testing
@testable import Tokenizers
import TestSupport

/// Real tokenizers and llama.cpp's test vectors from ../shared/realdata (skipped when absent).
enum Real {
    static var dir: String { SharedData.realdata }
    static let llama3JSON: HFTokenizer? = try? HFTokenizer(path: dir + "/llama3/tokenizer.json", configDirectory: dir + "/llama3")
    static let llama3Tiktoken: TiktokenTokenizer? = try? TiktokenTokenizer(
        path: dir + "/llama3/tokenizer.model", config: (try? TokenizerConfig.load(directory: dir + "/llama3")) ?? TokenizerConfig())
    static let llama2: SentencePieceTokenizer? = try? SentencePieceTokenizer(path: dir + "/llama2/tokenizer.model")

    /// (text, ids) pairs of a llama.cpp vocab test.
    static func vectors(_ name: String) throws -> [(String, [Int])] {
        let inp = try String(contentsOfFile: dir + "/llama_cpp_vocab/\(name).inp", encoding: .utf8)
        let out = try String(contentsOfFile: dir + "/llama_cpp_vocab/\(name).out", encoding: .utf8)
        var texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: " ").compactMap { Int($0) } }
        return texts.enumerated().map { ($1, $0 < lines.count ? lines[$0] : []) }
    }
}

@Suite(.enabled(if: SharedData.available, "needs ../shared/realdata (absent): skipped"))
struct RealDataTests {
    @Test func llamaCppBPEVectorsWithLLaMA3TokenizerJSON() throws {
        let tok = try #require(Real.llama3JSON)
        let v = try Real.vectors("ggml-vocab-llama-bpe.gguf")
        #expect(v.count == 46)  // the files hold 46 texts (the realdata README says 47)
        var bad: [String] = []
        for (text, ids) in v where tok.encode(text, addSpecialTokens: false) != ids { bad.append(text.debugDescription) }
        #expect(bad.isEmpty, "mismatching texts: \(bad)")
        for (text, ids) in v { #expect(tok.decode(ids) == text) }
    }

    @Test func llamaCppBPEVectorsWithTiktokenRanks() throws {
        let tok = try #require(Real.llama3Tiktoken)
        let v = try Real.vectors("ggml-vocab-llama-bpe.gguf")
        var bad: [String] = []
        for (text, ids) in v where tok.encode(text, addSpecialTokens: false) != ids { bad.append(text.debugDescription) }
        #expect(bad.isEmpty, "mismatching texts: \(bad)")
        #expect(tok.vocabularySize == 128256)
    }

    @Test func llamaCppSPMVectorsWithLLaMA2Model() throws {
        let tok = try #require(Real.llama2)
        let v = try Real.vectors("ggml-vocab-llama-spm.gguf")
        #expect(v.count == 46)  // the files hold 46 texts (the realdata README says 47)
        var bad: [String] = []
        for (text, ids) in v where tok.encode(text, addSpecialTokens: false) != ids { bad.append(text.debugDescription) }
        #expect(bad.isEmpty, "mismatching texts: \(bad)")
    }
}
