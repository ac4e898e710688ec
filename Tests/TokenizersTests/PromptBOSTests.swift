import Foundation
import LEPJSON
import TestSupport
import Testing
import Tokenizers

/// A prompt that already starts with the BOS text gets no second BOS, as with
/// transformers' apply_chat_template(tokenize=True) (fixtures/prompt_bos, scripts/fixtures/gen_prompt_bos.py).
struct PromptBOSTests {
    @Test("prompt ids equal transformers' chat path; other texts get BOS as tokenizer(text) does")
    func promptIdsMatchTransformers() throws {
        let text = try String(contentsOfFile: SharedData.fixtures + "/prompt_bos/vectors.json", encoding: .utf8)
        let cases = try #require(try JSONParser.parse(text).array)
        #expect(cases.count == 16)
        var tokenizers: [String: any Tokenizer] = [:]
        var skipped = 0
        for c in cases {
            let name = try #require(c["tokenizer"]?.string)
            let tok = try tokenizers[name] ?? loadTokenizer(path: SharedData.fixtures + "/tokenizers/" + name)
            tokenizers[name] = tok
            let input = try #require(c["text"]?.string)
            let ints = { (key: String) in c[key]?.array?.compactMap { $0.number?.int64.map { Int($0) } } }
            let (ids, skippedBOS) = tok.encodePrompt(input)
            #expect(ids == ints("expected"), "\(name): \(input)")
            #expect(tok.encode(input, addSpecialTokens: false) == ints("no_special"), "\(name): \(input)")
            // The plain call still matches transformers' tokenizer(text), double BOS included.
            #expect(tok.encode(input) == ints("plain_call"), "\(name): \(input)")
            #expect(skippedBOS == (c["chat_path"] != nil), "\(name): \(input)")
            #expect(tok.encodePrompt(input, addSpecialTokens: false).ids == ints("no_special"))
            if skippedBOS { skipped += 1 }
        }
        #expect(skipped == 8)
    }
}
