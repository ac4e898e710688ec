import Foundation
import LEPJSON
import SafeTensors
import Surgery
import SurgeryTestSupport
import TensorMath
import TestSupport
import Testing
import Tokenizers
@testable import Vocabulary

/// `lep vocab build` / `lep vocab init` against fixtures/vocab (scripts/fixtures/gen_vocab.py:
/// upstream tokenizers / sentencepiece / transformers / numpy).
@Suite struct VocabTests {
    static let dir = SharedData.fixtures + "/vocab"
    static let corpus = SharedData.packageRoot + "/scripts/fixtures/tiny_corpus.txt"

    /// The build arguments of each fixture case (as in gen_vocab.py).
    static let cases: [String: (VocabularyBuilder.Mode, String, String, keep: Int?, add: Int?)] = [
        "bl_extend": (.extend, "old_bl", "new_bpe.model", nil, nil),
        "bl_replace_bpe": (.replace, "old_bl", "new_bpe.model", nil, nil),
        "bl_replace_unigram": (.replace, "old_bl", "new_unigram.model", nil, nil),
        "bl_optimize": (.optimize, "old_bl", "new_bpe.model", 300, 200),
        "sp_extend": (.extend, "old_spm_dir/tokenizer.model", "new_bpe.model", nil, nil),
        "sp_replace_unigram": (.replace, "old_spm_dir/tokenizer.model", "new_unigram.model", nil, nil)
    ]

    static func json(_ name: String) throws -> JSONValue {
        try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))))
    }

    static func tmp(_ tag: String) -> String {
        NSTemporaryDirectory() + "lep-vocab-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test("built tokenizers: same files as the upstream-validated ones, same ids as tokenizers/transformers", arguments: cases.keys.sorted())
    func buildMatchesUpstream(_ name: String) throws {
        let c = Self.cases[name]!
        var o = VocabularyBuilder.Options(mode: c.0)
        if c.0 == .optimize { o.corpus = Self.corpus }
        if let k = c.keep { o.keep = k }
        o.add = c.add
        let r = try VocabularyBuilder.build(old: Self.dir + "/" + c.1, new: Self.dir + "/" + c.2, options: o)
        for (file, bytes) in r.files {
            let committed = Array(try Data(contentsOf: URL(fileURLWithPath: "\(Self.dir)/built/\(name)/\(file)")))
            if file.hasSuffix(".model") {
                // Same pieces, scores, types and settings (the proto's field layout may differ).
                let a = try SentencePieceModel(bytes: committed, path: file), b = try SentencePieceModel(bytes: bytes, path: file)
                let same =
                    a.pieces == b.pieces && a.modelType == b.modelType && a.byteFallback == b.byteFallback && a.addDummyPrefix == b.addDummyPrefix && a.normalizerName == b.normalizerName
                    && a.unkId == b.unkId && a.bosId == b.bosId
                #expect(same, "\(name)/\(file): pieces or settings differ from the committed (upstream-checked) model")
            } else {
                let same = committed == bytes
                #expect(same, "\(name)/\(file) differs from the committed (upstream-checked) output")
            }
        }
        let exp = try Self.json("expected.json")
        let texts = exp["texts"]!.array!.map { $0.string! }
        let e = exp["cases"]![name]!
        #expect(r.vocabularySize == Int(e["vocab_size"]!.number!.int64!))
        let tok = try loadTokenizer(directory: "\(Self.dir)/built/\(name)")
        #expect(tok.vocabularySize == r.vocabularySize)
        var mismatches = 0
        for (i, t) in texts.enumerated() {
            let want = e["ids"]!.array![i].array!.map { Int($0.number!.int64!) }
            let got = tok.encode(t, addSpecialTokens: false)
            if got != want { mismatches += 1; Issue.record("\(name): \(t.debugDescription): lep \(got) vs upstream \(want)") }
        }
        #expect(mismatches == 0)
        #expect(tok.encode("Привет", addSpecialTokens: true) == e["with_bos"]!.array!.map { Int($0.number!.int64!) })
    }

    static let mappingCases = ["bl_extend", "bl_replace_unigram", "bl_optimize", "sp_extend", "sp_replace_unigram"]

    static func oldTokenizer(_ name: String) throws -> any Tokenizer {
        name.hasPrefix("bl") ? try loadTokenizer(directory: dir + "/old_bl") : try loadTokenizer(path: dir + "/old_spm_dir/tokenizer.model")
    }

    @Test("§4 sub-token ids of every new id equal the upstream ones", arguments: mappingCases)
    func mappingMatchesUpstream(_ name: String) throws {
        let ref = try Self.json("mapping.json")["cases"]![name]!["mapping"]!.array!
        let old = try Self.oldTokenizer(name)
        let new = try loadTokenizer(directory: "\(Self.dir)/built/\(name)")
        let m = TokenMapping(new: new, old: old)
        #expect(m.count == ref.count)
        var bad = 0
        for (i, r) in ref.enumerated() where i < m.count {
            let a = r.array!
            let want: TokenMapping.Source
            switch a[0].string! {
            case "copy": want = .copy(Int(a[1].number!.int64!))
            case "sub": want = .subTokens(a[1].array!.map { Int($0.number!.int64!) })
            default: want = .unmapped
            }
            if m.sources[i] != want {
                bad += 1
                if bad <= 5 { Issue.record("\(name) id \(i) (\(new.token(for: i) ?? "?")): lep \(m.sources[i]) vs upstream \(want)") }
            }
        }
        #expect(bad == 0, "\(bad) of \(ref.count) ids differ")
    }

    @Test("init rows equal numpy means of the upstream sub-token rows (bf16, RNE)", arguments: mappingCases)
    func initMatchesNumpy(_ name: String) throws {
        let info = try Self.json("mapping.json")["cases"]![name]!
        let base = Self.dir + "/" + info["base"]!.string!
        var o = EmbeddingInitializer.Options()
        o.aggregation = info["aggregation"]!.string! == "sum" ? .sum : .mean
        let out = Self.tmp(name)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let s = try EmbeddingInitializer.run(base: base, tokenizer: "\(Self.dir)/built/\(name)", output: out, options: o)
        let got = try Checkpoint(path: out)
        let want = try SafeTensorsFile(path: "\(Self.dir)/init_\(name).safetensors")
        let baseCk = try Checkpoint(path: base)
        for t in want.tensors {
            let g = try got.view(t.name), w = try want.view(t.name)
            #expect(g.shape == w.shape)
            let gb = Array(g.bytes.bindMemory(to: UInt16.self)), wb = Array(w.bytes.bindMemory(to: UInt16.self))
            let diff = zip(gb, wb).filter { $0 != $1 }.count
            #expect(diff == 0, "\(name) \(t.name): \(diff) of \(gb.count) bf16 values differ")
        }
        // Everything else is the base's, byte for byte; config has the new vocab size.
        for n in baseCk.tensorNames where !n.contains("embed_tokens") && n != "lm_head.weight" {
            #expect(Array(try got.view(n).bytes) == Array(try baseCk.view(n).bytes), "\(n) changed")
        }
        let cfg = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))))
        #expect(cfg["vocab_size"]?.number?.int64 == Int64(s.newRows))
        #expect(FileManager.default.fileExists(atPath: out + "/tokenizer.json"))
        #expect(FileManager.default.fileExists(atPath: out + "/" + EmbeddingInitializer.provenanceName))
        let unmappedRef = try Self.json("mapping.json")["cases"]![name]!["mapping"]!.array!.filter { $0.array![0].string == "unmapped" }.count
        #expect(s.unmapped.count == unmappedRef)
    }

    /// Old ids whose token is in `new` (by string), with its new id.
    static func keptTokens(old: any Tokenizer, new: any Tokenizer, rows: Int) -> [(old: Int, new: Int)] {
        (0..<min(rows, old.vocabularySize)).compactMap { j in old.token(for: j).flatMap { new.id(for: $0) }.map { (j, $0) } }
    }

    @Test(
        "extend + init keeps every old token's row bit for bit (byte-level with non-UTF-8 byte tokens; SentencePiece)",
        arguments: ["bl_extend", "sp_extend"])
    func extendKeepsOldRows(_ name: String) throws {
        let base = Self.dir + (name.hasPrefix("bl") ? "/bl_base" : "/sp_base")
        let out = Self.tmp("keep-" + name)
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try EmbeddingInitializer.run(base: base, tokenizer: "\(Self.dir)/built/\(name)", output: out, options: .init())
        let old = try Self.oldTokenizer(name), new = try loadTokenizer(directory: "\(Self.dir)/built/\(name)")
        let baseCk = try Checkpoint(path: base), outCk = try Checkpoint(path: out)
        let h = 16
        let kept = Self.keptTokens(old: old, new: new, rows: try baseCk.info("model.embed_tokens.weight").shape[0])
        #expect(kept.count == old.vocabularySize, "extend keeps every old token")
        if name.hasPrefix("bl") {
            let partial = kept.filter { old.tokenBytes($0.old).map { String(validating: $0, as: UTF8.self) == nil } ?? false }
            #expect(partial.count > 50, "the fixture has byte-level tokens that are not UTF-8 alone (\(partial.count))")
        }
        for t in baseCk.tensorNames where t == "model.embed_tokens.weight" || t == "lm_head.weight" {
            let a = Array(try baseCk.view(t).bytes.bindMemory(to: UInt16.self)), b = Array(try outCk.view(t).bytes.bindMemory(to: UInt16.self))
            var changed: [String] = []
            for (j, i) in kept where a[(j * h)..<((j + 1) * h)] != b[(i * h)..<((i + 1) * h)] { changed.append(old.token(for: j) ?? "?") }
            let changedCount = changed.count, examples = changed.prefix(5)
            #expect(changedCount == 0, "\(name) \(t): \(changedCount) of \(kept.count) old rows changed, e.g. \(examples)")
        }
    }

    @Test(
        "LLaMA-3 / Mistral + ruadapt BPE extend: every old token maps to its own row (copy by bytes)",
        .enabled(if: SharedData.available, "needs ../shared/realdata (absent): skipped"), arguments: ["llama3", "mistral"])
    func realExtendKeepsOldRows(_ family: String) throws {
        let R = SharedData.realdata
        let oldPath = family == "llama3" ? R + "/llama3" : R + "/mistral/tokenizer.model.v1"
        let r = try VocabularyBuilder.build(
            old: oldPath, new: R + "/ruadapt/sentencepiece_tokenizers/darulm_20_05_24_part1-2_32000_bpe/darulm_20_05_24_part1-2.model",
            options: .init(mode: .extend))
        let out = Self.tmp("real-keep-" + family)
        defer { try? FileManager.default.removeItem(atPath: out) }
        try VocabularyBuilder.write(r, to: out, force: false, inputs: [])
        let old = family == "llama3" ? try loadTokenizer(directory: oldPath) : try loadTokenizer(path: oldPath)
        let new = try loadTokenizer(directory: out)
        let m = TokenMapping(new: new, old: old, oldRows: old.vocabularySize)
        let kept = Self.keptTokens(old: old, new: new, rows: old.vocabularySize)
        #expect(kept.count == old.vocabularySize)
        // Its own row: copied, or the mean of itself alone.
        let wrong = kept.filter { m.sources[$0.new] != .copy($0.old) && m.sources[$0.new] != .subTokens([$0.old]) }
        let examples = wrong.prefix(5).map { old.token(for: $0.old) ?? "?" }
        let wrongCount = wrong.count
        #expect(wrongCount == 0, "\(wrongCount) of \(kept.count) old tokens do not keep their row, e.g. \(examples)")
    }

    @Test("occurrence-weighted mean: weights from the map, absent ids fall back to the mean")
    func occurrenceAggregation() throws {
        let base = Self.dir + "/sp_base"
        let new = "\(Self.dir)/built/sp_extend"
        let newTok = try loadTokenizer(directory: new)
        let m = TokenMapping(new: newTok, old: try Self.oldTokenizer("sp_extend"))
        // Pick the first new id with two or more distinct sub-tokens.
        guard
            let (i, ids) = m.sources.enumerated().lazy.compactMap({ e -> (Int, [Int])? in
                if case .subTokens(let l) = e.element, Set(l).count >= 2 { return (e.offset, l) } else { return nil }
            }).first
        else { Issue.record("no multi-piece token"); return }
        let a = ids[0], b = ids.first { $0 != a }!
        let mapFile = Self.tmp("occ") + ".json"
        try "{\"\(i)\": {\"\(a)\": 3, \"\(b)\": 1}}".write(toFile: mapFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: mapFile) }
        var o = EmbeddingInitializer.Options()
        o.aggregation = .occurrence(try OccurrenceMap.load(path: mapFile))
        let out = Self.tmp("occ")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let s = try EmbeddingInitializer.run(base: base, tokenizer: new, output: out, options: o)
        #expect(s.occurrenceFallback == s.aggregated - 1)
        let E = try Checkpoint(path: base).view("model.embed_tokens.weight").floats()
        let got = try Checkpoint(path: out).view("model.embed_tokens.weight").floats()
        let h = 16
        for k in 0..<h {
            let want = HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16((3 * E[a * h + k] + E[b * h + k]) / 4))
            #expect(got[i * h + k] == want)
        }
    }

    @Test("bad input: missing tensor, unreadable tokenizer, out-of-range occurrence map; nothing written")
    func badInput() throws {
        let out = Self.tmp("bad")
        #expect(throws: SurgeryError.self) {
            _ = try EmbeddingInitializer.run(base: Self.dir + "/sp_base", tokenizer: Self.dir + "/nope", output: out, options: .init())
        }
        var o = EmbeddingInitializer.Options()
        o.aggregation = .occurrence([999_999: [(0, 1)]])
        #expect(throws: SurgeryError.self) {
            _ = try EmbeddingInitializer.run(base: Self.dir + "/sp_base", tokenizer: "\(Self.dir)/built/sp_extend", output: out, options: o)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(throws: SurgeryError.self) {
            _ = try VocabularyBuilder.build(old: Self.dir + "/old_spm_dir/tokenizer.model", new: Self.dir + "/new_bpe.model", options: .init(mode: .optimize))
        }
    }

    // MARK: Real data (../shared/realdata)

    static var ruTexts: [String] {
        let d = SharedData.realdata + "/text/ru"
        return ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).sorted().compactMap {
            try? String(contentsOfFile: d + "/" + $0, encoding: .utf8)
        }
    }

    static func checkNoUnknown(_ r: VocabularyBuilder.Result, _ label: String) throws {
        let out = tmp(label)
        defer { try? FileManager.default.removeItem(atPath: out) }
        try VocabularyBuilder.write(r, to: out, force: false, inputs: [])
        let tok = try loadTokenizer(directory: out)
        #expect(tok.vocabularySize == r.vocabularySize)
        let unk = tok.specialTokens.unk?.id
        for text in ruTexts {
            let sample = String(text.prefix(5000))
            let ids = tok.encode(sample, addSpecialTokens: false)
            if let u = unk { #expect(!ids.contains(u), "\(label): unknown token on Russian text") }
            #expect(tok.decode(ids) == sample, "\(label): decode(encode(text)) != text")
        }
    }

    @Test(
        "Mistral + ruadapt BPE extend: 55329 ids (paper 55328), no unknown tokens on Russian text",
        .enabled(if: SharedData.available, "needs ../shared/realdata (absent): skipped"))
    func mistralExtend() throws {
        let R = SharedData.realdata
        let r = try VocabularyBuilder.build(
            old: R + "/mistral/tokenizer.model.v1",
            new: R + "/ruadapt/sentencepiece_tokenizers/darulm_20_05_24_part1-2_32000_bpe/darulm_20_05_24_part1-2.model",
            options: .init(mode: .extend))
        #expect(r.vocabularySize == 55329)
        #expect(r.appended == 23329)
        try Self.checkNoUnknown(r, "mistral-extend")
    }

    @Test(
        "LLaMA-3 + ruadapt Unigram replace: 32000 + 256 specials, no unknown tokens on Russian text",
        .enabled(if: SharedData.available, "needs ../shared/realdata (absent): skipped"))
    func llama3ReplaceUnigram() throws {
        let R = SharedData.realdata
        let r = try VocabularyBuilder.build(
            old: R + "/llama3", new: R + "/ruadapt/hf_tokenizers/darulm_20_05_24_part1-2_32000_unigram_hf",
            options: .init(mode: .replace))
        #expect(r.vocabularySize == 32256)
        #expect(r.appended == 256)
        try Self.checkNoUnknown(r, "llama3-replace-unigram")
    }
}
