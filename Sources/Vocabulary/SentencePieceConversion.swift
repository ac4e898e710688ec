import LEPJSON
import Surgery
import Tokenizers

/// A SentencePiece model as an HF `tokenizer.json` + `tokenizer_config.json`, as transformers'
/// `LlamaConverter` writes it (legacy=False style): normaliser `Prepend("▁")` + `Replace(" ", "▁")`,
/// no pre-tokeniser, BPE (merges from ``extractMerges(_:)``) or Unigram with byte fallback,
/// decoder `Replace ▁→space, ByteFallback, Fuse, Strip(1 leading space)`, BOS template.
/// SentencePiece's own normalisation rule (e.g. `nmt_nfkc`) is not carried over (HF's converters do
/// not carry it either; the paper's HF tokenizers have none).
enum SentencePieceConversion {
    /// HF `SentencePieceExtractor.extract(vocab_scores)`: for every piece, each split into two pieces
    /// of the vocabulary is a merge (ordered by the ids of its parts), all merges then stably sorted by
    /// the merged piece's score, highest first.
    static func extractMerges(_ pieces: [SentencePieceModel.Piece]) -> [(String, String)] {
        var vocab: [String: Int] = [:]
        for (i, p) in pieces.enumerated() { vocab[p.piece] = i }  // Python dict: the last id wins
        var merges: [(String, String, Float)] = []
        var seen = Set<String>()
        for p in pieces {
            // vocab_scores is a dict: a repeated piece keeps its first position and last score.
            if !seen.insert(p.piece).inserted { continue }
            let chars = Array(p.piece.unicodeScalars)
            var local: [(String, String, Float)] = []
            for k in 1..<max(1, chars.count) {
                let l = String(String.UnicodeScalarView(chars[0..<k])), r = String(String.UnicodeScalarView(chars[k...]))
                if vocab[l] != nil && vocab[r] != nil { local.append((l, r, p.score)) }
            }
            local.sort { (vocab[$0.0]!, vocab[$0.1]!) < (vocab[$1.0]!, vocab[$1.1]!) }
            merges += local
        }
        let order = merges.indices.sorted { merges[$0].2 != merges[$1].2 ? merges[$0].2 > merges[$1].2 : $0 < $1 }
        return order.map { (merges[$0].0, merges[$0].1) }
    }

    static func addedTokenJSON(id: Int, content: String, special: Bool) -> JSONValue {
        .object(
            JSONObject([
                ("id", .number(JSONNumber(id))), ("content", .string(content)), ("single_word", .bool(false)),
                ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)), ("special", .bool(special))
            ]))
    }

    /// tokenizer.json of `m`.
    static func tokenizerJSON(_ m: SentencePieceModel) -> JSONObject {
        var added: [JSONValue] = []
        for (i, p) in m.pieces.enumerated() where p.type == .control || p.type == .unknown || p.type == .userDefined {
            added.append(addedTokenJSON(id: i, content: p.piece, special: p.type != .userDefined))
        }
        let unk = m.unkId >= 0 && m.unkId < m.pieces.count ? m.pieces[m.unkId].piece : nil
        var model = JSONObject()
        if m.modelType == .bpe {
            var vocab = JSONObject()
            for (i, p) in m.pieces.enumerated() where vocab[p.piece] == nil { vocab[p.piece] = .number(JSONNumber(i)) }
            model = JSONObject([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", unk.map { .string($0) } ?? .null),
                ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null), ("fuse_unk", .bool(true)),
                ("byte_fallback", .bool(m.byteFallback)), ("ignore_merges", .bool(false)), ("vocab", .object(vocab)),
                ("merges", .array(extractMerges(m.pieces).map { .array([.string($0.0), .string($0.1)]) }))
            ])
        } else {
            model = JSONObject([
                ("type", .string("Unigram")), ("unk_id", m.unkId >= 0 ? .number(JSONNumber(m.unkId)) : .null),
                ("vocab", .array(m.pieces.map { .array([.string($0.piece), .number(JSONNumber(Double($0.score)))]) })),
                ("byte_fallback", .bool(m.byteFallback))
            ])
        }
        func replace(_ a: String, _ b: String) -> JSONValue {
            .object(JSONObject([("type", .string("Replace")), ("pattern", .object(JSONObject([("String", .string(a))]))), ("content", .string(b))]))
        }
        var norms: [JSONValue] = []
        if m.addDummyPrefix { norms.append(.object(JSONObject([("type", .string("Prepend")), ("prepend", .string("▁"))]))) }
        norms.append(replace(" ", "▁"))
        var decoders: [JSONValue] = [replace("▁", " "), .object(JSONObject([("type", .string("ByteFallback"))])), .object(JSONObject([("type", .string("Fuse"))]))]
        if m.addDummyPrefix {
            decoders.append(.object(JSONObject([("type", .string("Strip")), ("content", .string(" ")), ("start", .number(JSONNumber(1))), ("stop", .number(JSONNumber(0)))])))
        }
        var root = JSONObject()
        root["version"] = .string("1.0")
        root["truncation"] = .null
        root["padding"] = .null
        root["added_tokens"] = .array(added)
        root["normalizer"] = .object(JSONObject([("type", .string("Sequence")), ("normalizers", .array(norms))]))
        root["pre_tokenizer"] = .null
        root["post_processor"] = m.bosId >= 0 && m.bosId < m.pieces.count ? bosTemplate(m.pieces[m.bosId].piece, m.bosId) : .null
        root["decoder"] = .object(JSONObject([("type", .string("Sequence")), ("decoders", .array(decoders))]))
        root["model"] = .object(model)
        return root
    }

    /// `TemplateProcessing` that prepends `bos`.
    static func bosTemplate(_ bos: String, _ id: Int) -> JSONValue {
        func special(_ t: Int) -> JSONValue { .object(JSONObject([("SpecialToken", .object(JSONObject([("id", .string(bos)), ("type_id", .number(JSONNumber(t)))])))])) }
        func seq(_ s: String, _ t: Int) -> JSONValue { .object(JSONObject([("Sequence", .object(JSONObject([("id", .string(s)), ("type_id", .number(JSONNumber(t)))])))])) }
        return .object(
            JSONObject([
                ("type", .string("TemplateProcessing")),
                ("single", .array([special(0), seq("A", 0)])),
                ("pair", .array([special(0), seq("A", 0), special(1), seq("B", 1)])),
                ("special_tokens", .object(JSONObject([(bos, .object(JSONObject([("id", .string(bos)), ("ids", .array([.number(JSONNumber(id))])), ("tokens", .array([.string(bos)]))])))])))
            ]))
    }

    /// tokenizer_config.json and special_tokens_map.json for a converted model.
    static func configs(_ m: SentencePieceModel) -> (JSONObject, JSONObject) {
        func piece(_ id: Int) -> JSONValue { id >= 0 && id < m.pieces.count ? .string(m.pieces[id].piece) : .null }
        var decoder = JSONObject()
        for (i, p) in m.pieces.enumerated() where p.type == .control || p.type == .unknown || p.type == .userDefined {
            decoder[String(i)] = .object(
                JSONObject([
                    ("content", .string(p.piece)), ("lstrip", .bool(false)), ("normalized", .bool(false)),
                    ("rstrip", .bool(false)), ("single_word", .bool(false)), ("special", .bool(p.type != .userDefined))
                ]))
        }
        let cfg = JSONObject([
            ("add_bos_token", .bool(true)), ("add_eos_token", .bool(false)), ("added_tokens_decoder", .object(decoder)),
            ("bos_token", piece(m.bosId)), ("clean_up_tokenization_spaces", .bool(false)), ("eos_token", piece(m.eosId)),
            ("legacy", .bool(false)), ("model_max_length", .number(JSONNumber(1_000_000_000_000_000_019_884_624_838_656.0))),
            ("pad_token", piece(m.padId)), ("tokenizer_class", .string("PreTrainedTokenizerFast")), ("unk_token", piece(m.unkId))
        ])
        var map = JSONObject()
        for (k, id) in [("bos_token", m.bosId), ("eos_token", m.eosId), ("unk_token", m.unkId), ("pad_token", m.padId)] where id >= 0 && id < m.pieces.count {
            map[k] = .string(m.pieces[id].piece)
        }
        return (cfg, map)
    }
}
