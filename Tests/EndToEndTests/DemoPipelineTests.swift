import Foundation
import Testing
import TestSupport

/// `make demo`'s pipeline (scripts/demo.sh, issue 8) on the committed toy models in fixtures/toy:
/// propagate in swap, overlap and conversion modes; every output inspects and verifies; lep eval's
/// numbers are finite; the LEP outputs use the donor's (new Russian) vocabulary plus the instruct
/// model's chat tokens.
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
            let r = try LEP.run(["propagate", "--base", Self.toy + "/base", "--instruct", Self.toy + "/instruct",
                                 "--donor", Self.toy + "/donor", "--mode", mode, "-o", "\(dir)/lep-\(mode)"])
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

        // 4. lep eval (one item per task file): every number finite; LEP models tokenize like the donor
        let chat = [Self.toy + "/instruct"] + Self.modes.map { "\(dir)/lep-\($0)" }
        let e = try LEP.run(["eval"] + chat + ["--tasks", "likelihood,tokenizer,copy,mc_single,mc_continuation",
                                                "--max-items", "1", "--ctx", "256", "-o", dir + "/eval"])
        #expect(e.status == 0, "eval: \(e.stderr)")
        let d = try LEP.run(["eval", Self.toy + "/donor", "--tasks", "likelihood,tokenizer", "--ctx", "256", "-o", dir + "/eval-donor"])
        #expect(d.status == 0, "eval donor: \(d.stderr)")
        var results = try #require(try Self.json(dir + "/eval/report.json")["results"] as? [[String: Any]])
        results += try #require(try Self.json(dir + "/eval-donor/report.json")["results"] as? [[String: Any]])
        #expect(results.count > 20)
        func value(_ model: String, _ task: String, _ metric: String) -> Double? {
            results.first { $0["model"] as? String == model && $0["task"] as? String == task && $0["metric"] as? String == metric }?["value"] as? Double
        }
        for r in results {
            let v = try #require(r["value"] as? Double, "non-numeric value in \(r)")
            #expect(v.isFinite, "\(r["model"] ?? "?") \(r["task"] ?? "?") \(r["metric"] ?? "?") = \(v)")
        }
        let donorCPT = try #require(value("donor", "tokenizer_ru", "chars_per_token"))
        let instructCPT = try #require(value("instruct", "tokenizer_ru", "chars_per_token"))
        #expect(donorCPT > instructCPT, "the Russian vocabulary is more efficient on Russian text")
        for mode in Self.modes {
            #expect(value("lep-\(mode)", "tokenizer_ru", "chars_per_token") == donorCPT, "lep-\(mode) tokenizes Russian like the donor")
            let bpb = try #require(value("lep-\(mode)", "text_ru", "bits_per_byte"))
            #expect(bpb > 0 && bpb < 8, "lep-\(mode) Russian bits per byte \(bpb)")
        }
    }
}
