import GGUF
import LEPJSON
import Models
import Support
import Tokenizers

/// A Hugging Face tokenizer as llama.cpp's `tokenizer.*` metadata, following convert_hf_to_gguf.py:
/// a SentencePiece `tokenizer.model` gives a `llama` tokenizer (tokens, scores, types); otherwise a
/// byte-level BPE `tokenizer.json` gives a `gpt2` one (tokens, types, merges, the pre-tokenizer name).
/// Special ids, add-bos/eos/sep flags and chat templates are read as `gguf.SpecialVocab` reads them.
struct GGUFTokenizerExport {
    var entries: [(key: String, value: GGUFValue)] = []
    var summary = ""
    var templateNames: [String] = []

    init(directory dir: String, vocabSize: Int) throws {
        let tokJSON = try Self.readObject(dir + "/tokenizer.json")
        let tokenizerConfig = try Self.readObject(dir + "/tokenizer_config.json")
        var tokens: [String]
        var types: [Int32]
        if let bytes = WholeFile.bytes(dir + "/tokenizer.model"), let spm = try? SentencePieceModel(bytes: bytes, path: dir + "/tokenizer.model") {
            guard spm.pieces.count <= vocabSize else {
                throw GGUFError.conversion(path: dir, reason: "tokenizer.model has \(spm.pieces.count) pieces but config.json vocab_size is \(vocabSize)")
            }
            tokens = (0..<vocabSize).map { "[PAD\($0)]" }
            var scores = [Float](repeating: -1000, count: vocabSize)
            types = [Int32](repeating: 5, count: vocabSize)
            for (i, p) in spm.pieces.enumerated() {
                tokens[i] = p.piece
                scores[i] = p.score
                // sentencepiece's IsUnknown / IsControl / IsUnused / IsByte; anything else NORMAL.
                types[i] =
                    switch p.type {
                    case .unknown: 2;
                    case .control: 3;
                    case .unused: 5;
                    case .byte: 6;
                    default: 1
                    }
            }
            for (k, v) in (tokenizerConfig?["added_tokens_decoder"]?.object?.members ?? []) {
                guard let id = Int(k), id >= 0, id < vocabSize, let content = v["content"]?.string else { continue }
                if v["special"]?.bool == true { types[id] = 3 } else if types[id] != 3 && types[id] != 2 { types[id] = 4 }
                tokens[id] = content
                scores[id] = -1000
            }
            entries.append(("tokenizer.ggml.model", .string("llama")))
            entries.append(("tokenizer.ggml.pre", .string("default")))
            entries.append(("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })))
            entries.append(("tokenizer.ggml.scores", .array(.float32, scores.map { .float32($0) })))
            entries.append(("tokenizer.ggml.token_type", .array(.int32, types.map { .int32($0) })))
            // llama.cpp assumes a space prefix and no whitespace folding; other settings are recorded.
            if spm.removeExtraWhitespaces { entries.append(("tokenizer.ggml.remove_extra_whitespaces", .bool(true))) }
            if !spm.addDummyPrefix { entries.append(("tokenizer.ggml.add_space_prefix", .bool(false))) }
            summary = "llama (SentencePiece), \(spm.pieces.count) pieces"
        } else {
            guard let tj = tokJSON else {
                throw GGUFError.conversion(path: dir, reason: "no tokenizer.model (SentencePiece) or tokenizer.json here; llama.cpp needs the tokenizer")
            }
            let model = tj["model"]?.object ?? JSONObject()
            guard model["type"]?.string == "BPE", let vocab = model["vocab"]?.object else {
                throw GGUFError.conversion(path: dir + "/tokenizer.json", reason: "model.type must be BPE with a vocab (lep writes byte-level BPE and SentencePiece tokenizers)")
            }
            if model["byte_fallback"]?.bool == true {
                let unk = model["unk_token"]?.string ?? tokenizerConfig?["unk_token"]?.string ?? tokenizerConfig?["unk_token"]?["content"]?.string
                try sentencePieceFromTokenizerJSON(tj, model: model, vocab: vocab, unk: unk, vocabSize: vocabSize, path: dir + "/tokenizer.json")
                try addSpecial(dir: dir, tokenizerJSON: tokJSON, tokenizerConfig: tokenizerConfig, nVocab: vocabSize)
                return
            }
            let pre = try Self.preTokenizerName(tj["pre_tokenizer"], path: dir + "/tokenizer.json")
            var byId: [Int: String] = [:]
            for (t, v) in vocab.members { if let i = v.number?.int64 { byId[Int(i)] = t } }
            var added: [Int: (String, Bool)] = [:]
            for a in tj["added_tokens"]?.array ?? [] {
                if let i = a["id"]?.number?.int64, let c = a["content"]?.string { added[Int(i)] = (c, a["special"]?.bool ?? false); byId[Int(i)] = c }
            }
            guard (byId.keys.max() ?? 0) < vocabSize else {
                throw GGUFError.conversion(path: dir + "/tokenizer.json", reason: "token id \(byId.keys.max() ?? 0) is beyond config.json vocab_size \(vocabSize)")
            }
            tokens = []
            types = []
            for i in 0..<vocabSize {
                if let (c, special) = added[i] {
                    tokens.append(c); types.append(special ? 3 : 4)
                } else if let t = byId[i] {
                    tokens.append(t); types.append(1)
                } else {
                    tokens.append("[PAD\(i)]"); types.append(5)
                }
            }
            var merges: [GGUFValue] = []
            for (k, m) in (model["merges"]?.array ?? []).enumerated() {
                if let s = m.string {
                    merges.append(.string(s))
                } else if let a = m.array, a.count == 2, let x = a[0].string, let y = a[1].string {
                    // gguf.SpecialVocab: a space inside a merge part is written as U+0120.
                    func enc(_ s: String) -> String { String(s.map { $0 == " " ? "\u{120}" : $0 }) }
                    merges.append(.string(enc(x) + " " + enc(y)))
                } else {
                    throw GGUFError.conversion(path: dir + "/tokenizer.json", reason: "model.merges[\(k)] is not \"a b\" or [a, b]")
                }
            }
            entries.append(("tokenizer.ggml.model", .string("gpt2")))
            entries.append(("tokenizer.ggml.pre", .string(pre)))
            entries.append(("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })))
            entries.append(("tokenizer.ggml.token_type", .array(.int32, types.map { .int32($0) })))
            if !merges.isEmpty { entries.append(("tokenizer.ggml.merges", .array(.string, merges))) }
            summary = "gpt2 (\(pre)), \(vocab.count) tokens + \(added.count) added, \(merges.count) merges"
        }
        try addSpecial(dir: dir, tokenizerJSON: tokJSON, tokenizerConfig: tokenizerConfig, nVocab: tokens.count)
    }

    /// A SentencePiece-style BPE tokenizer.json (byte fallback, `▁` for spaces) without its
    /// tokenizer.model, as a `llama` tokenizer. Types as gguf's LlamaHfVocab gives them (`<0xXX>` BYTE,
    /// special added tokens CONTROL, other added tokens USER_DEFINED, the unk token UNKNOWN). The
    /// scores, which the file does not hold, are derived from the merges: a token made by merge r
    /// scores -r, so llama.cpp's highest-score-first merging follows the BPE merge order; tokens no
    /// merge makes (characters, bytes, specials) score below every merge.
    mutating func sentencePieceFromTokenizerJSON(_ tj: JSONObject, model: JSONObject, vocab: JSONObject, unk: String?, vocabSize: Int, path: String) throws {
        var tokens = (0..<vocabSize).map { "[PAD\($0)]" }
        var types = [Int32](repeating: 5, count: vocabSize)
        var rank: [String: Int] = [:]
        let merges = model["merges"]?.array ?? []
        for (r, m) in merges.enumerated() {
            let pair: (String, String)?
            if let s = m.string, let split = GGUFTokenizerImport.splitMerge(s) {
                pair = split
            } else if let a = m.array, a.count == 2, let x = a[0].string, let y = a[1].string {
                pair = (x, y)
            } else {
                pair = nil
            }
            guard let (a, b) = pair else { throw GGUFError.conversion(path: path, reason: "model.merges[\(r)] is not \"a b\" or [a, b]") }
            if rank[a + b] == nil { rank[a + b] = r }
        }
        var scores = [Float](repeating: -Float(merges.count) - 1, count: vocabSize)
        func isByte(_ t: String) -> Bool {
            let u = Array(t.utf8)
            return u.count == 6 && t.hasPrefix("<0x") && t.hasSuffix(">") && u[3...4].allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) }
        }
        for (t, v) in vocab.members {
            guard let i = v.number?.int64.map({ Int($0) }), i >= 0 else { continue }
            guard i < vocabSize else { throw GGUFError.conversion(path: path, reason: "token id \(i) is beyond config.json vocab_size \(vocabSize)") }
            tokens[i] = t
            types[i] = isByte(t) ? 6 : t == unk ? 2 : 1
            if let r = rank[t] { scores[i] = -Float(r) }
        }
        for a in tj["added_tokens"]?.array ?? [] {
            guard let i = a["id"]?.number?.int64.map({ Int($0) }), i >= 0, let c = a["content"]?.string else { continue }
            guard i < vocabSize else { throw GGUFError.conversion(path: path, reason: "added token id \(i) is beyond config.json vocab_size \(vocabSize)") }
            tokens[i] = c
            types[i] = c == unk ? 2 : (a["special"]?.bool ?? false) ? 3 : 4
            scores[i] = 0
        }
        entries.append(("tokenizer.ggml.model", .string("llama")))
        entries.append(("tokenizer.ggml.pre", .string("default")))
        entries.append(("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })))
        entries.append(("tokenizer.ggml.scores", .array(.float32, scores.map { .float32($0) })))
        entries.append(("tokenizer.ggml.token_type", .array(.int32, types.map { .int32($0) })))
        summary = "llama (SentencePiece-style tokenizer.json, scores from \(merges.count) merges), \(vocab.count) tokens"
    }

    /// llama.cpp's name for the pre-tokenizer of a byte-level tokenizer.json.
    static func preTokenizerName(_ v: JSONValue?, path: String) throws -> String {
        func isByteLevel(_ x: JSONValue?, regex: Bool) -> Bool {
            x?["type"]?.string == "ByteLevel" && (x?["use_regex"]?.bool ?? true) == regex
        }
        if isByteLevel(v, regex: true) { return "gpt-2" }
        if v?["type"]?.string == "Sequence", let p = v?["pretokenizers"]?.array, p.count == 2,
            p[0]["type"]?.string == "Split", p[0]["pattern"]?["Regex"]?.string == GGUFTokenizerImport.llama3Regex, isByteLevel(p[1], regex: false)
        {
            return "llama-bpe"
        }
        throw GGUFError.conversion(
            path: path, reason: "pre_tokenizer is neither LLaMA-3's split + ByteLevel nor GPT-2's ByteLevel, so llama.cpp's tokenizer.ggml.pre cannot be named (lep writes llama-bpe and gpt-2)")
    }

    static func readObject(_ path: String) throws -> JSONObject? {
        guard let bytes = WholeFile.bytes(path) else { return nil }
        guard let v = try? JSONParser.parse(bytes, duplicateKeys: .lastWins), let o = v.object else {
            throw GGUFError.conversion(path: path, reason: "not a JSON object")
        }
        return o
    }

    /// Special ids, add_*_token flags and chat templates, as gguf.SpecialVocab reads them.
    mutating func addSpecial(dir: String, tokenizerJSON tj: JSONObject?, tokenizerConfig tcIn: JSONObject?, nVocab: Int) throws {
        let kinds = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]
        var ids: [(String, Int)] = []
        var add: [(String, Bool)] = []
        func setAdd(_ k: String, _ v: Bool) { if let i = add.firstIndex(where: { $0.0 == k }) { add[i].1 = v } else { add.append((k, v)) } }
        func setId(_ k: String, _ v: Int?) { if let v, v >= 0, v < nVocab, !ids.contains(where: { $0.0 == k }) { ids.append((k, v)) } }
        func content(_ v: JSONValue?) -> String? { v?.string ?? v?["content"]?.string }
        var tc = tcIn
        if let tj {
            var bos = content(tc?["bos_token"]), eos = content(tc?["eos_token"])
            let cls = content(tc?["cls_token"]), sep = content(tc?["sep_token"])
            if bos == nil, let cls, tc != nil { bos = cls; tc?["bos_token"] = .string(cls) }
            if eos == nil, let sep, tc != nil { eos = sep; tc?["eos_token"] = .string(sep) }
            let pp = tj["post_processor"]
            let processors = pp?["processors"]?.array ?? (pp.map { [$0] } ?? [])
            for p in processors where p["type"]?.string == "TemplateProcessing" {
                let single = p["single"]?.array ?? [], pair = p["pair"]?.array ?? []
                var first: String?, last: String?
                if single.count > 1 {
                    first = single[0]["SpecialToken"]?["id"]?.string
                    if let f = first {
                        if tc == nil { bos = f }
                        setAdd("bos", f == bos || f == cls)
                    }
                    last = single[single.count - 1]["SpecialToken"]?["id"]?.string
                    if let l = last {
                        if tc == nil { eos = l }
                        setAdd("eos", l == eos)
                    }
                }
                if !pair.isEmpty {
                    let start = (first != nil && pair[0]["SpecialToken"]?["id"]?.string == first) ? 1 : 0
                    let stop = (last != nil && pair[pair.count - 1]["SpecialToken"]?["id"]?.string == last) ? pair.count - 1 : pair.count
                    if start < stop {
                        let t = Array(pair[start..<stop])
                        if t[0]["Sequence"]?["id"]?.string == "A", t[t.count - 1]["Sequence"]?["id"]?.string == "B", t.count > 2 {
                            let mid = Array(t[1..<(t.count - 1)])
                            var addSep = false
                            if let e = mid[0]["SpecialToken"]?["id"]?.string, e == sep || e == eos, last == nil { addSep = true }
                            if mid.count == 2, let e = mid[1]["SpecialToken"]?["id"]?.string, e == sep || e == eos { addSep = true }
                            setAdd("sep", addSep)
                        }
                    }
                }
            }
        }
        var templates: ChatTemplateSet?
        if let tc, !tc.members.isEmpty {
            let addedTokens = tj?["added_tokens"]?.array ?? []
            for k in kinds {
                if let b = tc["add_\(k)_token"]?.bool { setAdd(k, b) }
                guard let c = content(tc["\(k)_token"]) else { continue }
                let id = addedTokens.first { $0["content"]?.string == c }?["id"]?.number?.int64
                setId(k, id.map { Int($0) })
            }
            do { templates = try ChatTemplateSet.load(directory: dir) } catch { throw GGUFError.conversion(path: dir, reason: error.description) }
        }
        if let cfg = try Self.readObject(dir + "/config.json") {
            for k in kinds { if let n = cfg["\(k)_token_id"]?.number, n.isIntegerLiteral, let v = n.int64 { setId(k, Int(v)) } }
        }
        let keyName = [
            "bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "sep": "seperator_token_id",
            "pad": "padding_token_id", "cls": "cls_token_id", "mask": "mask_token_id"
        ]
        for (k, v) in ids { entries.append(("tokenizer.ggml." + keyName[k, default: k], .uint32(UInt32(v)))) }
        for (k, v) in add where ["bos", "eos", "sep"].contains(k) { entries.append(("tokenizer.ggml.add_\(k)_token", .bool(v))) }
        if let templates {
            var names: [String] = []
            for t in templates.templates where t.name != "default" {
                let name = String(t.name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
                names.append(name)
                entries.append(("tokenizer.chat_template." + name, .string(t.source)))
            }
            if !names.isEmpty { entries.append(("tokenizer.chat_templates", .array(.string, names.map { .string($0) }))) }
            if let d = templates.templates.first(where: { $0.name == "default" }) { entries.append(("tokenizer.chat_template", .string(d.source))) }
            templateNames = templates.names
        }
    }
}
