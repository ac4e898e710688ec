import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing
import Tokenizers

/// `tokenizer_source: union` against mergekit 0.1.5 (fixtures/merge/models/u{base,a,b},
/// out/union_*.safetensors and out/union_*.tokenizer.json, made by scripts/fixtures/gen_merge.py).
///
/// mergekit appends the tokens the base lacks in an order that changes from run to run (its models
/// are a Python set), so vocabularies are compared as token → row: the same token set, the base's
/// ids unchanged, and every token's embedding / lm_head row equal to mergekit's row for that token.
/// Tolerance: bitwise — both compute in float32 (`dtype: float32`), a missing row is copied from the
/// base or averaged over two rows ((0 + a) + b) / 2 in the same order, so the arithmetic is the same.
@Suite struct UnionVocabularyTests {
    /// Token → id of a tokenizer.json (model.vocab + added_tokens).
    static func vocabulary(_ path: String) throws -> [String: Int] {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var out: [String: Int] = [:]
        for (k, v) in (root["model"] as! [String: Any])["vocab"] as! [String: Int] { out[k] = v }
        for t in root["added_tokens"] as! [[String: Any]] { out[t["content"] as! String] = t["id"] as? Int }
        return out
    }

    @Test(arguments: ["union_task_arithmetic", "union_linear"])
    func matchesMergekitByToken(_ name: String) throws {
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/\(name).yml", baseDirectory: Fix.merge)
        let plan = try MergePlan.make(recipe)
        #expect(plan.notes.contains { $0.hasPrefix("union vocabulary: 35 rows") }, "\(plan.notes)")
        let out = try Fix.run(recipe)
        let mine = try Self.vocabulary(out + "/tokenizer.json")
        let ref = try Self.vocabulary(Fix.merge + "/out/\(name).tokenizer.json")
        #expect(Set(mine.keys) == Set(ref.keys), "union vocabulary differs from mergekit's")
        #expect(mine.count == 35)
        let baseVocab = try Self.vocabulary(Fix.merge + "/models/ubase/tokenizer.json")
        for (t, id) in baseVocab { #expect(mine[t] == id, "\(t): base id \(id) not kept") }
        #expect(String(decoding: Fix.files(out)["config.json"]!, as: UTF8.self).contains("\"vocab_size\": 35"))
        // The written tokenizer loads back in lep with the appended tokens.
        let tok = try HFTokenizer(path: out + "/tokenizer.json", configDirectory: out)
        #expect(tok.vocabularySize == 35)
        #expect(tok.id(for: "<think>") == mine["<think>"])

        let mineT = try Fix.tensors(out), refT = try Fix.tensors(Fix.merge + "/out/\(name).safetensors")
        #expect(Set(mineT.keys) == Set(refT.keys))
        var differing: [String] = []
        for n in refT.keys.sorted() {
            let a = try Fix.floats(Fix.merge + "/out/\(name).safetensors", n), b = try Fix.floats(out, n)
            #expect(a.count == b.count, "\(n): \(b.count) elements vs mergekit's \(a.count)")
            guard a.count == b.count else { continue }
            if n == "model.embed_tokens.weight" || n == "lm_head.weight" {
                let h = a.count / 35
                for (t, r) in ref {
                    guard let m = mine[t] else { continue }
                    if Array(a[(r * h)..<((r + 1) * h)]) != Array(b[(m * h)..<((m + 1) * h)]) { differing.append("\(n)[\(t)]") }
                }
            } else if a != b {
                differing.append(n)
            }
        }
        #expect(differing.isEmpty, "\(name): rows/tensors differing from mergekit: \(differing)")
    }

    /// The rules on their own: a token only one input has takes that input's row; one the base lacks
    /// but two inputs have takes their mean; one the base has takes the base's row (task arithmetic
    /// then leaves it at the base's value for the inputs that lack it).
    @Test func fillRules() throws {
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/union_task_arithmetic.yml", baseDirectory: Fix.merge)
        let out = try Fix.run(recipe)
        let v = try Self.vocabulary(out + "/tokenizer.json")
        let a = try Fix.floats(Fix.merge + "/models/ua", "model.embed_tokens.weight")
        let b = try Fix.floats(Fix.merge + "/models/ub", "model.embed_tokens.weight")
        let o = try Fix.floats(out, "model.embed_tokens.weight")
        let va = try Self.vocabulary(Fix.merge + "/models/ua/tokenizer.json"), vb = try Self.vocabulary(Fix.merge + "/models/ub/tokenizer.json")
        let h = 16
        func row(_ x: [Float], _ r: Int) -> [Float] { Array(x[(r * h)..<((r + 1) * h)]) }
        // <tool>: only in ua → base, ua and ub all hold ua's row: θ₀ + λ(0.6·0 + 0.3·0) = ua's row.
        #expect(row(o, v["<tool>"]!) == row(a, va["<tool>"]!))
        #expect(row(o, v["<img>"]!) == row(b, vb["<img>"]!))
        // <think>: in ua and ub, not the base → the base row is their mean m; θ = m + 0.9(0.6(a−m) + 0.3(b−m)).
        let ra = row(a, va["<think>"]!), rb = row(b, vb["<think>"]!)
        for j in 0..<h {
            let m = (ra[j] + rb[j]) / 2
            let expect = m + 0.9 * (0.6 * (ra[j] - m) + 0.3 * (rb[j] - m))
            #expect(abs(o[v["<think>"]! * h + j] - expect) <= 1e-6)
        }
    }
}

extension UnionVocabularyTests {
    /// union needs every input's tokenizer.json: its absence is an error naming the model, nothing written.
    @Test func missingTokenizerIsAnError() throws {
        let dir = Fix.tempDir()
        try Fix.synth(dir + "/x", vocab: 32, seed: 1)
        try Fix.synth(dir + "/y", vocab: 34, seed: 2)
        let recipe = try Fix.recipe(
            """
            merge_method: linear
            models:
              - model: x
                parameters: {weight: 0.5}
              - model: y
                parameters: {weight: 0.5}
            tokenizer_source: union
            """, base: dir)
        #expect(throws: SurgeryError.self) { try MergePlan.make(recipe) }
        do { _ = try MergePlan.make(recipe) } catch { #expect("\(error)".contains("tokenizer.json"), "\(error)") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }
}
