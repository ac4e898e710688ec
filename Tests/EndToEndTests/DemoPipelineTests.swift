import Foundation
import Testing
import TestSupport

/// `make demo`'s pipeline (scripts/demo.sh) on the committed toy models in fixtures/toy:
/// propagate in swap, overlap and conversion modes; every output inspects and verifies; the LEP
/// outputs use the donor's (new Russian) vocabulary plus the instruct model's chat tokens; one lep
/// eval of the five models (with fewer items than the demo) gives finite numbers, paired comparisons
/// with the instruct model, and a complete summary.json (`--summary-json`, what demo.sh writes).
@Suite(.serialized) struct DemoPipelineTests {
    static let toy = SharedData.fixtures + "/toy"
    static let modes = ["swap", "overlap", "conversion"]

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(path) is not a JSON object")
    }

    /// `model.vocab` of a tokenizer.json, piece → id.
    static func vocab(_ dir: String) throws -> [String: Int] {
        let model = try #require(try json(dir + "/tokenizer.json")["model"] as? [String: Any])
        return try #require(model["vocab"] as? [String: Int], "\(dir)/tokenizer.json: model.vocab is not a piece → id map")
    }

    static func addedTokens(_ dir: String) throws -> [String: Int] {
        let list = try #require(try json(dir + "/tokenizer.json")["added_tokens"] as? [[String: Any]])
        var out: [String: Int] = [:]
        for t in list { if let c = t["content"] as? String, let i = t["id"] as? Int { out[c] = i } }
        return out
    }

    @Test func demoPipelineOnTheCommittedToyModels() throws {
        for m in ["base", "instruct", "donor"] {
            #expect(FileManager.default.fileExists(atPath: "\(Self.toy)/\(m)/model.safetensors"), "fixtures/toy/\(m) is missing (scripts/toy/make_toy.sh)")
        }
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }

        // 1. propagate in the paper's three modes
        for mode in Self.modes {
            let r = try LEP.run([
                "propagate", "--base", Self.toy + "/base", "--instruct", Self.toy + "/instruct",
                "--donor", Self.toy + "/donor", "--mode", mode, "-o", "\(dir)/lep-\(mode)"
            ])
            #expect(r.status == 0, "propagate --mode \(mode): \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: "\(dir)/lep-\(mode)/lep_propagation.json"))
        }

        // 2. every model loads and verifies (finite weights and logits)
        let models = [Self.toy + "/instruct", Self.toy + "/donor"] + Self.modes.map { "\(dir)/lep-\($0)" }
        for m in models {
            let i = try LEP.run(["inspect", m])
            #expect(i.status == 0, "inspect \(m): \(i.stderr)")
            let v = try LEP.run(["verify", m])
            #expect(v.status == 0, "verify \(m): \(v.stdout)\(v.stderr)")
            #expect(v.stdout.contains("all checks passed"), "verify \(m): \(v.stdout)")
        }

        // 3. the LEP outputs speak the donor's vocabulary, plus the instruct model's chat tokens
        let donorVocab = try Self.vocab(Self.toy + "/donor")
        let instructVocab = try Self.vocab(Self.toy + "/instruct")
        #expect(donorVocab != instructVocab, "the donor must have the new vocabulary")
        let instructAdded = try Self.addedTokens(Self.toy + "/instruct")
        let donorSize = try #require(try Self.json(Self.toy + "/donor/config.json")["vocab_size"] as? Int)
        for mode in Self.modes {
            let out = "\(dir)/lep-\(mode)"
            #expect(try Self.vocab(out) == donorVocab, "lep-\(mode): tokenizer.json vocabulary differs from the donor's")
            let added = try Self.addedTokens(out)
            let start = try #require(added["<|im_start|>"], "lep-\(mode) lacks <|im_start|>")
            let end = try #require(added["<|im_end|>"], "lep-\(mode) lacks <|im_end|>")
            #expect(instructAdded["<|im_end|>"] != nil)
            #expect(Set([start, end]) == Set([donorSize, donorSize + 1]), "chat tokens appended after the donor's \(donorSize) rows")
            let config = try Self.json(out + "/config.json")
            #expect(config["vocab_size"] as? Int == donorSize + 2)
            let tc = try Self.json(out + "/tokenizer_config.json")
            #expect((tc["chat_template"] as? String)?.contains("<|im_start|>") == true, "lep-\(mode): chat template taken from the instruct model")
            let inspect = try LEP.run(["inspect", out])
            #expect(inspect.stdout.contains("\(donorSize + 2)"), "lep-\(mode): embeddings have \(donorSize + 2) rows")
        }

        // 4. lep eval of all five models in one run (one item per task file, two chat prompts per
        //    language): every number finite; the donor (no chat template) skips the chat tasks; LEP
        //    models tokenize like the donor; summary.json is complete (every key for every model).
        let names = ["instruct", "donor", "lep-swap", "lep-overlap", "lep-conversion"]
        let all = [Self.toy + "/instruct", Self.toy + "/donor"] + Self.modes.map { "\(dir)/lep-\($0)" }
        let e = try LEP.run(
            ["eval"] + all + [
                "--max-items", "1", "--chat-prompts", "2", "--bootstrap", "200", "--ctx", "256",
                "-o", dir + "/eval", "--summary-json", dir + "/summary.json"
            ])
        #expect(e.status == 0, "eval: \(e.stderr)")
        let results = try #require(try Self.json(dir + "/eval/report.json")["results"] as? [[String: Any]])
        #expect(results.count > 40)
        func value(_ model: String, _ task: String, _ metric: String) -> Double? {
            results.first { $0["model"] as? String == model && $0["task"] as? String == task && $0["metric"] as? String == metric }?["value"] as? Double
        }
        for r in results {
            let v = try #require(r["value"] as? Double, "non-numeric value in \(r)")
            #expect(v.isFinite, "\(r["model"] ?? "?") \(r["task"] ?? "?") \(r["metric"] ?? "?") = \(v)")
        }
        #expect(value("donor", "copy_ru", "copy99") == nil && value("instruct", "copy_ru", "copy99") != nil)
        let comparisons = try #require(try Self.json(dir + "/eval/report.json")["comparisons"] as? [[String: Any]])
        #expect(comparisons.contains { $0["model"] as? String == "lep-conversion" && $0["task"] as? String == "copy_ru" && $0["reference"] as? String == "instruct" })
        let donorCPT = try #require(value("donor", "tokenizer_ru", "chars_per_token"))
        let instructCPT = try #require(value("instruct", "tokenizer_ru", "chars_per_token"))
        #expect(donorCPT > instructCPT, "the Russian vocabulary is more efficient on Russian text")
        for mode in Self.modes {
            #expect(value("lep-\(mode)", "tokenizer_ru", "chars_per_token") == donorCPT, "lep-\(mode) tokenizes Russian like the donor")
            let bpb = try #require(value("lep-\(mode)", "text_ru", "bits_per_byte"))
            #expect(bpb > 0 && bpb < 8, "lep-\(mode) Russian bits per byte \(bpb)")
        }

        // 5. summary.json: the five models, every required key, finite where applicable, null for the donor's chat tasks.
        let summary = try Self.json(dir + "/summary.json")
        let summaryModels = try #require(summary["models"] as? [String: Any])
        #expect(Set(summaryModels.keys) == Set(names))
        let required = [
            "ru_chars_per_token", "ru_bits_per_byte", "en_bits_per_byte", "copy_ru_copy99", "copy_en_copy99",
            "n_copy_ru", "n_copy_en", "chat_format"
        ]
        let chatKeys: Set = ["copy_ru_copy99", "copy_en_copy99", "n_copy_ru", "n_copy_en", "chat_format"]
        var keySets: [Set<String>] = []
        for name in names {
            let m = try #require(summaryModels[name] as? [String: Any], "summary.json lacks \(name)")
            keySets.append(Set(m.keys))
            for k in required {
                #expect(m.keys.contains(k), "\(name) lacks \(k)")
                if name == "donor" && chatKeys.contains(k) {
                    #expect(m[k] is NSNull, "donor \(k) should be null (no chat template), got \(m[k] ?? "nil")")
                } else {
                    let v = try #require(m[k] as? Double, "\(name) \(k) is not a number: \(m[k] ?? "nil")")
                    #expect(v.isFinite, "\(name) \(k) = \(v)")
                }
            }
            if name != "donor" {
                #expect(m["n_copy_ru"] as? Int == 2 && m["n_copy_en"] as? Int == 2, "one sentence + one paragraph per language")
                #expect(m["n_chat_format"] as? Int == 4)
            }
        }
        #expect(Set(keySets).count == 1, "every model has the same keys")
    }
}
