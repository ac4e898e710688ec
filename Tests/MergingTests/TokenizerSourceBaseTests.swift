import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// `tokenizer_source: base`: rows matched by token string.
@Suite struct TokenizerSourceBaseTests {
    /// A minimal tokenizer.json with `tokens[i]` at id i.
    static func writeTokenizer(_ dir: String, _ tokens: [String]) throws {
        let vocab = tokens.enumerated().map { "\"\($0.element)\": \($0.offset)" }.joined(separator: ", ")
        try "{\"model\": {\"type\": \"BPE\", \"vocab\": {\(vocab)}, \"merges\": []}, \"added_tokens\": []}"
            .write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
    }

    @Test func baseVocabularyKeepsBaseRowsMatchedByToken() throws {
        let dir = Fix.tempDir()
        try Fix.synth(dir + "/x", vocab: 32, seed: 1)
        try Fix.synth(dir + "/y", vocab: 34, seed: 2)
        let xTokens = (0..<32).map { "t\($0)" }
        // y: the same tokens in reverse order, then two of its own; it lacks t0.
        var yTokens = (1..<32).reversed().map { "t\($0)" }
        yTokens += ["new1", "new2", "new3"]
        try Self.writeTokenizer(dir + "/x", xTokens)
        try Self.writeTokenizer(dir + "/y", yTokens)
        let recipe = try Fix.recipe(
            """
            merge_method: task_arithmetic
            base_model: x
            models:
              - model: y
                parameters: {weight: 1.0}
            tokenizer_source: base
            """, base: dir)
        let plan = try MergePlan.make(recipe)
        #expect(plan.notes.contains { $0.contains("lacks 1") })
        let out = try Fix.run(recipe)
        for name in ["model.embed_tokens.weight", "lm_head.weight"] {
            let x = try Fix.floats(dir + "/x", name), y = try Fix.floats(dir + "/y", name), o = try Fix.floats(out, name)
            let h = 16
            #expect(o.count == 32 * h)
            for r in 0..<32 {
                let expected: ArraySlice<Float> = r == 0 ? x[0..<h] : y[((31 - r) * h)..<((32 - r) * h)]
                #expect(Array(o[(r * h)..<((r + 1) * h)]) == Array(expected), "\(name) row \(r) (t\(r))")
            }
        }
        #expect(String(decoding: Fix.files(out)["config.json"]!, as: UTF8.self).contains("\"vocab_size\": 32"))
    }
}
