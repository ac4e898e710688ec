import GGUF
import LEPJSON
import Tokenizers

/// A GGUF file's tokenizer (`tokenizer.ggml.*`, `tokenizer.chat_template*`) rebuilt as Hugging Face files.
///
/// `gpt2` tokenizers become a byte-level BPE `tokenizer.json` (vocabulary, merges, the split regex of
/// `tokenizer.ggml.pre`, CONTROL tokens as special added tokens, USER_DEFINED ones as plain added
/// tokens); `llama` tokenizers a SentencePiece BPE `tokenizer.model` (pieces, scores, types, byte
/// fallback when byte pieces exist). Token types follow `gguf.constants.TokenType`.
struct GGUFTokenizerImport {
    /// Special ids of the metadata.
    struct Special { var bos: Int?, eos: Int?, eot: Int?, unk: Int?, pad: Int? }

    enum TokenType: Int { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    let path: String
    let model: String
    let pre: String?
    let tokens: [String]
    let types: [TokenType]
    let scores: [Float]?
    let merges: [(String, String)]
    let special: Special
    let addBos: Bool, addEos: Bool, addSpacePrefix: Bool, removeExtraWhitespaces: Bool
    let chatTemplates: [ChatTemplateSet.Named]

    /// The llama.cpp pre-tokenizer names whose split regex is LLaMA-3's (gguf_tokenizer_mapping in transformers).
    static let llama3Pre: Set<String> = ["llama3", "llama-v3", "llama-bpe", "smaug-bpe", "falcon3", "dbrx", "pixtral"]
    static let gpt2Pre: Set<String> = ["gpt-2", "default"]
    static let llama3Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init(md: GGUFMetadata, vocabSize: Int) throws {
        path = md.path
        guard let model = try md.optionalString("tokenizer.ggml.model") else {
            throw GGUFError.conversion(path: path, reason: "metadata 'tokenizer.ggml.model' is missing: the file has no tokenizer")
        }
        guard model == "gpt2" || model == "llama" else {
            throw GGUFError.conversion(path: path, reason: "tokenizer.ggml.model '\(model)' is not supported (lep rebuilds 'gpt2' byte-level BPE and 'llama' SentencePiece tokenizers)")
        }
        self.model = model
        guard let tokens = try md.stringArray("tokenizer.ggml.tokens"), !tokens.isEmpty else {
            throw GGUFError.conversion(path: path, reason: "metadata 'tokenizer.ggml.tokens' is missing or empty")
        }
        guard tokens.count <= vocabSize else {
            throw GGUFError.conversion(path: path, reason: "tokenizer.ggml.tokens has \(tokens.count) tokens but the model has \(vocabSize) embedding rows")
        }
        self.tokens = tokens
        let rawTypes = try md.intArray("tokenizer.ggml.token_type") ?? [Int](repeating: 1, count: tokens.count)
        guard rawTypes.count == tokens.count else {
            throw GGUFError.invalidMetadata(path: path, key: "tokenizer.ggml.token_type", reason: "\(rawTypes.count) types for \(tokens.count) tokens")
        }
        var types: [TokenType] = []
        for (i, t) in rawTypes.enumerated() {
            guard let tt = TokenType(rawValue: t) else { throw GGUFError.invalidMetadata(path: path, key: "tokenizer.ggml.token_type", reason: "token \(i) has unknown type \(t)") }
            types.append(tt)
        }
        self.types = types
        scores = try md.floatArray("tokenizer.ggml.scores")
        if let s = scores, s.count != tokens.count {
            throw GGUFError.invalidMetadata(path: path, key: "tokenizer.ggml.scores", reason: "\(s.count) scores for \(tokens.count) tokens")
        }
        var merges: [(String, String)] = []
        for (i, m) in (try md.stringArray("tokenizer.ggml.merges") ?? []).enumerated() {
            guard let pair = Self.splitMerge(m) else {
                throw GGUFError.invalidMetadata(path: path, key: "tokenizer.ggml.merges", reason: "merge \(i) '\(m)' is not two tokens separated by one space")
            }
            merges.append(pair)
        }
        self.merges = merges
        pre = try md.optionalString("tokenizer.ggml.pre")
        func id(_ key: String) throws -> Int? {
            guard let i = try md.optionalInt("tokenizer.ggml." + key) else { return nil }
            guard i >= 0, i < tokens.count else { throw GGUFError.invalidMetadata(path: md.path, key: "tokenizer.ggml." + key, reason: "id \(i) is outside the \(tokens.count) tokens") }
            return i
        }
        special = Special(
            bos: try id("bos_token_id"), eos: try id("eos_token_id"), eot: try id("eot_token_id"),
            unk: try id("unknown_token_id"), pad: try id("padding_token_id"))
        addBos = try md.optionalBool("tokenizer.ggml.add_bos_token") ?? (model == "llama")
        addEos = try md.optionalBool("tokenizer.ggml.add_eos_token") ?? false
        addSpacePrefix = try md.optionalBool("tokenizer.ggml.add_space_prefix") ?? true
        removeExtraWhitespaces = try md.optionalBool("tokenizer.ggml.remove_extra_whitespaces") ?? false
        if model == "gpt2" {
            guard !merges.isEmpty else { throw GGUFError.conversion(path: path, reason: "a gpt2 tokenizer needs tokenizer.ggml.merges, which is missing or empty") }
            let p = pre ?? "default"
            guard Self.llama3Pre.contains(p) || Self.gpt2Pre.contains(p) else {
                throw GGUFError.conversion(path: path, reason: "tokenizer.ggml.pre '\(p)' is not supported (lep rebuilds \(Self.llama3Pre.union(Self.gpt2Pre).sorted().joined(separator: ", ")))")
            }
        } else {
            guard scores != nil else { throw GGUFError.conversion(path: path, reason: "a llama (SentencePiece) tokenizer needs tokenizer.ggml.scores, which is missing") }
        }
        // Chat templates: the default and the named ones (tokenizer.chat_templates lists their names).
        var templates: [ChatTemplateSet.Named] = []
        if let t = try md.optionalString("tokenizer.chat_template") { templates.append(.init(name: "default", source: t)) }
        for name in try md.stringArray("tokenizer.chat_templates") ?? [] {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw GGUFError.invalidMetadata(path: path, key: "tokenizer.chat_templates", reason: "template name '\(name)' is not made of letters, digits and _")
            }
            guard let t = try md.optionalString("tokenizer.chat_template." + name) else {
                throw GGUFError.conversion(path: path, reason: "tokenizer.chat_templates names '\(name)' but 'tokenizer.chat_template.\(name)' is missing")
            }
            templates.append(.init(name: name, source: t))
        }
        chatTemplates = templates
    }

    /// "a b" → (a, b), split on the space byte (a space before a combining mark is one Character).
    static func splitMerge(_ m: String) -> (String, String)? {
        let u = Array(m.utf8)
        guard let sp = u.firstIndex(of: 0x20), sp > 0, sp < u.count - 1, !u[(sp + 1)...].contains(0x20) else { return nil }
        return (String(decoding: u[..<sp], as: UTF8.self), String(decoding: u[(sp + 1)...], as: UTF8.self))
    }

    var summary: String {
        model == "gpt2"
            ? "gpt2 byte-level BPE (\(pre ?? "default")), \(tokens.count) tokens, \(merges.count) merges"
            : "llama SentencePiece BPE, \(tokens.count) tokens"
    }

    func token(_ id: Int?) -> JSONValue { id.map { .string(tokens[$0]) } ?? .null }

    /// tokenizer.json / tokenizer.model, tokenizer_config.json, special_tokens_map.json and the templates.
    func files(modelMaxLength: Int) throws -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = []
        var config = JSONObject()
        config["add_bos_token"] = .bool(addBos)
        config["add_eos_token"] = .bool(addEos)
        config["bos_token"] = token(special.bos)
        config["clean_up_tokenization_spaces"] = .bool(false)
        config["eos_token"] = token(special.eos)
        if model == "llama" { config["legacy"] = .bool(false) }
        config["model_max_length"] = .number(JSONNumber(modelMaxLength))
        if let p = special.pad { config["pad_token"] = .string(tokens[p]) }
        config["tokenizer_class"] = .string(model == "llama" ? "LlamaTokenizer" : "PreTrainedTokenizerFast")
        if model == "llama" { config["unk_token"] = token(special.unk) }
        if model == "gpt2" {
            files.append(("tokenizer.json", Array(JSONWriter.compact(.object(byteLevelJSON())).utf8)))
        } else {
            var pieces: [SentencePieceModel.Piece] = []
            for (i, t) in tokens.enumerated() {
                let type: SentencePieceModel.PieceType =
                    switch types[i] {
                    case .normal: .normal
                    case .unknown: .unknown
                    case .control: .control
                    case .userDefined: .userDefined
                    case .unused: .unused
                    case .byte: .byte
                    }
                pieces.append(.init(piece: t, score: scores?[i] ?? 0, type: type))
            }
            let unk = special.unk ?? types.firstIndex(of: .unknown)
            guard let unk else { throw GGUFError.conversion(path: path, reason: "the SentencePiece tokenizer has no unknown token (tokenizer.ggml.unknown_token_id)") }
            // SentencePiece requires the piece at unk_id to be of type UNKNOWN.
            pieces[unk].type = .unknown
            let m = try SentencePieceModel.build(
                pieces: pieces, modelType: .bpe, byteFallback: types.contains(.byte), unkId: unk,
                bosId: special.bos ?? -1, eosId: special.eos ?? -1, padId: special.pad ?? -1,
                addDummyPrefix: addSpacePrefix, removeExtraWhitespaces: removeExtraWhitespaces)
            files.append(("tokenizer.model", m.serialized()))
        }
        var map = JSONObject()
        for (k, v) in [("bos_token", special.bos), ("eos_token", special.eos), ("unk_token", special.unk), ("pad_token", special.pad)] {
            if let v { map[k] = .string(tokens[v]) }
        }
        if !chatTemplates.isEmpty {
            let (tf, value) = ChatTemplateSet(templates: chatTemplates, storage: .jinjaFiles).encoded()
            if let value { config["chat_template"] = value }
            files += tf.map { ($0.name, $0.bytes) }
        }
        files.append(("tokenizer_config.json", Array((JSONWriter.pretty(.object(config)) + "\n").utf8)))
        files.append(("special_tokens_map.json", Array((JSONWriter.pretty(.object(map)) + "\n").utf8)))
        return files
    }

    /// The byte-level BPE tokenizer.json.
    func byteLevelJSON() -> JSONObject {
        let p = pre ?? "default"
        let llama3 = Self.llama3Pre.contains(p)
        func obj(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }
        var added: [JSONValue] = []
        for (i, t) in types.enumerated() where t == .control || t == .userDefined {
            added.append(
                obj([
                    ("id", .number(JSONNumber(i))), ("content", .string(tokens[i])), ("single_word", .bool(false)), ("lstrip", .bool(false)),
                    ("rstrip", .bool(false)), ("normalized", .bool(t == .userDefined)), ("special", .bool(t == .control))
                ]))
        }
        let byteLevel = obj([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)), ("use_regex", .bool(!llama3))])
        let preTokenizer: JSONValue =
            llama3
            ? obj([
                ("type", .string("Sequence")),
                (
                    "pretokenizers",
                    .array([
                        obj([("type", .string("Split")), ("pattern", obj([("Regex", .string(Self.llama3Regex))])), ("behavior", .string("Isolated")), ("invert", .bool(false))]),
                        byteLevel
                    ])
                )
            ])
            : byteLevel
        var single: [JSONValue] = [], pair: [JSONValue] = []
        var specials: [(String, JSONValue)] = []
        func sp(_ id: Int, _ typeId: Int) -> JSONValue { obj([("SpecialToken", obj([("id", .string(tokens[id])), ("type_id", .number(JSONNumber(typeId)))]))]) }
        func seq(_ s: String, _ typeId: Int) -> JSONValue { obj([("Sequence", obj([("id", .string(s)), ("type_id", .number(JSONNumber(typeId)))]))]) }
        if addBos, let b = special.bos { single.append(sp(b, 0)); pair.append(sp(b, 0)) }
        single.append(seq("A", 0)); pair.append(seq("A", 0))
        if addEos, let e = special.eos { single.append(sp(e, 0)); pair.append(sp(e, 0)) }
        if addBos, let b = special.bos { pair.append(sp(b, 1)) }
        pair.append(seq("B", 1))
        if addEos, let e = special.eos { pair.append(sp(e, 1)) }
        for id in [addBos ? special.bos : nil, addEos ? special.eos : nil].compactMap({ $0 }) where !specials.contains(where: { $0.0 == tokens[id] }) {
            specials.append((tokens[id], obj([("id", .string(tokens[id])), ("ids", .array([.number(JSONNumber(id))])), ("tokens", .array([.string(tokens[id])]))])))
        }
        let post: JSONValue =
            specials.isEmpty
            ? .null
            : obj([("type", .string("TemplateProcessing")), ("single", .array(single)), ("pair", .array(pair)), ("special_tokens", .object(JSONObject(specials)))])
        var vocab: [(String, JSONValue)] = []
        var seen = Set<String>()
        for (i, t) in tokens.enumerated() where seen.insert(t).inserted { vocab.append((t, .number(JSONNumber(i)))) }
        let model = obj([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null),
            ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)), ("ignore_merges", .bool(llama3)),
            ("vocab", .object(JSONObject(vocab))), ("merges", .array(merges.map { .array([.string($0.0), .string($0.1)]) }))
        ])
        return JSONObject([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null), ("added_tokens", .array(added)), ("normalizer", .null),
            ("pre_tokenizer", preTokenizer), ("post_processor", post),
            ("decoder", obj([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])),
            ("model", model)
        ])
    }
}
