import Glibc
import LEPJSON
import Support

extension HFTokenizer {
    /// The model section as tokenizer.json writes it.
    func modelJSON() -> JSONValue {
        func o(_ p: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(p)) }
        func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        switch model {
        case .bpe(let b):
            var vocab = JSONObject()
            for (i, t) in b.idToToken.enumerated() { if let t { vocab[t] = .number(JSONNumber(i)) } }
            let merges = JSONValue.array(b.mergeList.map { .array([.string($0.0), .string($0.1)]) })
            return o([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", str(b.unkToken)),
                ("continuing_subword_prefix", str(b.continuingSubwordPrefix)), ("end_of_word_suffix", str(b.endOfWordSuffix)),
                ("fuse_unk", .bool(b.fuseUnk)), ("byte_fallback", .bool(b.byteFallback)), ("ignore_merges", .bool(b.ignoreMerges)),
                ("vocab", .object(vocab)), ("merges", merges)
            ])
        case .unigram(let u):
            return o([
                ("type", .string("Unigram")), ("unk_id", .number(JSONNumber(u.unkId))),
                ("vocab", .array(u.pieces.map { .array([.string($0.0), .number(JSONNumber($0.1))]) })),
                ("byte_fallback", .bool(u.byteFallback))
            ])
        }
    }

    /// tokenizer.json for the current state: keys of the file as read kept in order, `added_tokens`,
    /// `post_processor` and `model` rewritten.
    public func tokenizerJSON() -> JSONValue {
        var r = root
        r["added_tokens"] = .array(addedTokens.map { $0.json(withId: true) })
        r["post_processor"] = postProcessor?.json ?? .null
        r["model"] = modelJSON()
        return .object(r)
    }

    /// Writes `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json` into `directory`
    /// (created if missing), each atomically. `added_tokens_decoder` in the config follows the added tokens.
    public func save(directory: String) throws(TokenizerError) {
        mkdir(directory, 0o755)
        guard PathUtilities.isDirectory(directory) else { throw .writeFailed(path: directory, reason: "not a directory") }
        try FileIO.writeAtomically(directory + "/tokenizer.json", Array((JSONWriter.pretty(tokenizerJSON()) + "\n").utf8))
        try TokenizerWriter.writeConfigs(config, added: addedTokens, special: specialTokens, directory: directory)
    }

    /// Adds tokens as HF `add_tokens` does: a token already in the vocabulary keeps its id, others get
    /// the next ids. Returns the id of each. Special tokens are matched in text with `normalized: false`.
    @discardableResult
    public mutating func addTokens(_ contents: [String], special: Bool) throws(TokenizerError) -> [Int] {
        try addTokens(contents.map { (content: $0, special: special) })
    }

    /// Adds tokens, each special or not, in order, as repeated `add_tokens` calls would: the added-token
    /// tables and matchers are rebuilt once for the whole list (not once per token). On an error the
    /// tokenizer is unchanged.
    @discardableResult
    public mutating func addTokens(_ entries: [(content: String, special: Bool)]) throws(TokenizerError) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(entries.count)
        var pending: [String: Int] = [:]
        var next = vocabularySize
        let before = addedTokens
        for (c, special) in entries {
            if let a = addedByContent[c] ?? pending[c] { ids.append(a); continue }
            let id = self.id(for: c) ?? next
            next = max(next, id + 1)
            addedTokens.append(AddedToken(id: id, content: c, special: special))
            pending[c] = id
            ids.append(id)
        }
        if !pending.isEmpty {
            addedTokens.sort { $0.id < $1.id }
            do { try rebuildAddedTokens() } catch {
                addedTokens = before
                try rebuildAddedTokens()
                throw error
            }
        }
        for ((_, special), id) in zip(entries, ids) where special { specialTokens.specialIds.insert(id) }
        return ids
    }
}

extension SentencePieceTokenizer {
    /// Writes `tokenizer.model` (the model proto, rewritten from ``model``) and the two config files.
    public func save(directory: String) throws(TokenizerError) {
        mkdir(directory, 0o755)
        guard PathUtilities.isDirectory(directory) else { throw .writeFailed(path: directory, reason: "not a directory") }
        try FileIO.writeAtomically(directory + "/tokenizer.model", model.serialized())
        try TokenizerWriter.writeConfigs(config, added: addedTokens, special: specialTokens, directory: directory)
    }
}

enum TokenizerWriter {
    static func writeConfigs(_ cfg: TokenizerConfig, added: [AddedToken], special: SpecialTokens, directory: String) throws(TokenizerError) {
        var c = cfg.config
        if !added.isEmpty {
            var dec = JSONObject()
            for a in added { dec[String(a.id)] = a.json(withId: false) }
            c["added_tokens_decoder"] = .object(dec)
        }
        var map = cfg.specialTokensMap
        for (role, v) in [("bos_token", special.bos), ("eos_token", special.eos), ("unk_token", special.unk), ("pad_token", special.pad)] {
            guard let v else { continue }
            if c[role] == nil { c[role] = .string(v.token) }
            if map[role] == nil {
                map[role] = .object(
                    JSONObject([
                        ("content", .string(v.token)), ("lstrip", .bool(false)), ("normalized", .bool(false)),
                        ("rstrip", .bool(false)), ("single_word", .bool(false))
                    ]))
            }
        }
        try FileIO.writeAtomically(directory + "/tokenizer_config.json", Array((JSONWriter.pretty(.object(c)) + "\n").utf8))
        try FileIO.writeAtomically(directory + "/special_tokens_map.json", Array((JSONWriter.pretty(.object(map)) + "\n").utf8))
    }
}

/// Builds a BPE vocabulary with merges on top of an HF BPE tokenizer: append tokens, add merges
/// (new merges can take priority over the old ones, Documentation/Propagation.md §3 "extension"), then `build()` gives a
/// tokenizer that lep and HF `tokenizers` load identically.
public struct BPEVocabularyBuilder: Sendable {
    var base: HFTokenizer
    /// Token strings by id (holes are nil).
    public private(set) var tokens: [String?]
    var ids: StringIds
    /// Merges in priority order.
    public private(set) var merges: [(String, String)]
    var prepended = 0

    /// Starts from `base`, which must have a BPE model.
    public init(base: HFTokenizer) throws(TokenizerError) {
        guard case .bpe(let b) = base.model else { throw .unsupportedComponent(stage: "model", type: "Unigram (BPEVocabularyBuilder needs a BPE model)") }
        self.base = base
        tokens = b.idToToken
        ids = b.tokenToId
        merges = b.mergeList
    }

    /// Appends `token` (in the model's vocabulary strings, e.g. byte-level `Ġпри` or `▁при`) and
    /// returns its id; an existing token returns its id unchanged.
    @discardableResult
    public mutating func addToken(_ token: String) -> Int {
        if let i = ids[token] { return i }
        let id = max(tokens.count, (base.addedTokens.last?.id ?? -1) + 1)
        while tokens.count < id { tokens.append(nil) }
        tokens.append(token)
        ids[token] = id
        return id
    }

    /// Adds the merge `left right` (its result must exist or is added). `highPriority` merges go
    /// before every old merge, in the order they are added; others go after.
    public mutating func addMerge(_ left: String, _ right: String, highPriority: Bool) throws(TokenizerError) {
        guard ids[left] != nil else { throw .mergeMissingToken(merge: "\(left) \(right)", token: left) }
        guard ids[right] != nil else { throw .mergeMissingToken(merge: "\(left) \(right)", token: right) }
        addToken(left + right)
        if highPriority { merges.insert((left, right), at: prepended); prepended += 1 } else { merges.append((left, right)) }
    }

    /// The resulting tokenizer (added tokens that collide with new ids are an error).
    public func build() throws(TokenizerError) -> HFTokenizer {
        for a in base.addedTokens where a.id < tokens.count {
            if let t = tokens[a.id], t != a.content { throw .duplicateToken("id \(a.id) (\(t) / \(a.content))", context: "BPEVocabularyBuilder") }
        }
        var t = base
        guard case .bpe(let b) = base.model else { throw .unsupportedComponent(stage: "model", type: "Unigram") }
        let vocab = tokens.enumerated().compactMap { i, s in s.map { ($0, i) } }
        t.model = .bpe(
            try BPEModel(
                vocab: vocab, merges: merges, byteLevel: b.byteLevel, unkToken: b.unkToken, byteFallback: b.byteFallback,
                fuseUnk: b.fuseUnk, ignoreMerges: b.ignoreMerges, continuingSubwordPrefix: b.continuingSubwordPrefix,
                endOfWordSuffix: b.endOfWordSuffix))
        try t.rebuildAddedTokens()
        return t
    }
}
