import LEPJSON

/// A tokenizer from HF `tokenizer.json` (BPE or Unigram model with its pipeline), exact to the
/// `tokenizers` library for the components it supports; anything else is refused at load with
/// ``TokenizerError/unsupportedComponent(stage:type:)``.
public struct HFTokenizer: Tokenizer {
    enum Model: Sendable {
        case bpe(BPEModel)
        case unigram(UnigramModel)
    }

    var model: Model
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var decoder: Decoder?
    var postProcessor: PostProcessor?
    public internal(set) var addedTokens: [AddedToken]
    var addedById: [Int: AddedToken]
    var addedByContent: StringIds
    var rawMatcher: AddedTokenMatcher
    var normalizedMatcher: AddedTokenMatcher
    public internal(set) var specialTokens: SpecialTokens
    /// tokenizer_config.json / special_tokens_map.json (empty when absent).
    public var config: TokenizerConfig
    /// The root object of tokenizer.json as read (other keys are written back unchanged).
    var root: JSONObject
    let byteLevel: Bool
    let metaspaceStyle: Bool
    /// Where it came from (for messages).
    public let source: String

    /// Loads `tokenizer.json`, with the config files of `configDirectory` when given.
    public init(path: String, configDirectory: String? = nil) throws(TokenizerError) {
        let cfg = try configDirectory.map { dir throws(TokenizerError) in try TokenizerConfig.load(directory: dir) } ?? TokenizerConfig()
        try self.init(bytes: try FileIO.read(path), config: cfg, path: path)
    }

    /// Builds from the bytes of a `tokenizer.json` file (`path` names it in errors). Large files take
    /// a fast path for the vocabulary and merges; anything it does not recognise goes through the
    /// strict JSON parser.
    package init(bytes: [UInt8], config: TokenizerConfig = TokenizerConfig(), path: String) throws(TokenizerError) {
        if let fast = FastTokenizerJSON.parse(bytes) {
            try self.init(json: fast.document, config: config, path: path, preparsed: (fast.vocab, fast.merges))
            return
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: path, reason: error.description) }
        try self.init(json: json, config: config, path: path)
    }

    /// Builds from parsed tokenizer.json content.
    public init(json: JSONValue, config: TokenizerConfig = TokenizerConfig(), path: String = "tokenizer.json") throws(TokenizerError) {
        try self.init(json: json, config: config, path: path, preparsed: nil)
    }

    init(json: JSONValue, config: TokenizerConfig, path: String, preparsed: ([(String, Int)], [(String, String)])?) throws(TokenizerError) {
        guard let root = json.object else { throw .invalidField(path: path, key: "(root)", expected: "an object") }
        guard let m = root["model"], m.object != nil else { throw .invalidField(path: path, key: "model", expected: "an object") }
        self.root = root
        self.source = path
        self.config = config
        normalizer = try Normalizer.parse(root["normalizer"] ?? .null, path: path)
        preTokenizer = try PreTokenizer.parse(root["pre_tokenizer"] ?? .null, path: path)
        decoder = try Decoder.parse(root["decoder"] ?? .null, path: path)
        postProcessor = try PostProcessor.parse(root["post_processor"] ?? .null, path: path)
        byteLevel = preTokenizer?.isByteLevel ?? false
        metaspaceStyle = preTokenizer?.metaspace != nil || (normalizer?.replacesSpaceWithMetaspace ?? false)
        model = try HFTokenizer.parseModel(m, byteLevel: byteLevel, path: path, preparsed: preparsed)
        // Added tokens.
        var added: [AddedToken] = []
        for (k, t) in (root["added_tokens"]?.array ?? []).enumerated() {
            guard let id = t["id"]?.number?.int64, let content = t["content"]?.string else {
                throw .invalidField(path: path, key: "added_tokens[\(k)]", expected: "an object with id and content")
            }
            added.append(
                AddedToken(
                    id: Int(id), content: content, special: t["special"]?.bool ?? false,
                    normalized: t["normalized"]?.bool, lstrip: t["lstrip"]?.bool ?? false,
                    rstrip: t["rstrip"]?.bool ?? false, singleWord: t["single_word"]?.bool ?? false))
        }
        addedTokens = added.sorted { $0.id < $1.id }
        addedById = [:]
        addedByContent = StringIds()
        rawMatcher = AddedTokenMatcher([])
        normalizedMatcher = AddedTokenMatcher([])
        specialTokens = SpecialTokens()
        try rebuildAddedTokens()
        try resolveSpecialTokens(path: path)
    }

    /// `model.vocab` (token → id) and `model.merges` ("a b" or [a, b]) of a BPE model.
    static func parseBPETables(_ m: JSONValue, path: String) throws(TokenizerError) -> ([(String, Int)], [(String, String)]) {
        guard let vocabObj = m["vocab"]?.object else { throw .invalidField(path: path, key: "model.vocab", expected: "an object of token → id") }
        var vocab: [(String, Int)] = []
        vocab.reserveCapacity(vocabObj.count)
        for (t, v) in vocabObj.members {
            guard let id = v.number?.int64 else { throw .invalidField(path: path, key: "model.vocab.\(t)", expected: "an integer id") }
            vocab.append((t, Int(id)))
        }
        var merges: [(String, String)] = []
        let mergeArr = m["merges"]?.array ?? []
        merges.reserveCapacity(mergeArr.count)
        for (k, mv) in mergeArr.enumerated() {
            if let s = mv.string {
                // HF: split on ' ' into exactly two parts (bytes, not Characters: "▁а ́" has a combining mark after the space)
                let parts = s.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .invalidField(path: path, key: "model.merges[\(k)]", expected: "\"a b\" or [a, b]") }
                merges.append((String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self)))
            } else if let a = mv.array, a.count == 2, let x = a[0].string, let y = a[1].string {
                merges.append((x, y))
            } else {
                throw .invalidField(path: path, key: "model.merges[\(k)]", expected: "\"a b\" or [a, b]")
            }
        }
        return (vocab, merges)
    }

    static func parseModel(_ m: JSONValue, byteLevel: Bool, path: String, preparsed: ([(String, Int)], [(String, String)])? = nil) throws(TokenizerError) -> Model {
        let type = m["type"]?.string ?? (m["merges"] != nil ? "BPE" : m["vocab"]?.array != nil ? "Unigram" : "")
        switch type {
        case "BPE":
            let tables: ([(String, Int)], [(String, String)])
            if let preparsed { tables = preparsed } else { tables = try parseBPETables(m, path: path) }
            let (vocab, merges) = tables
            if let d = m["dropout"], !d.isNull, d.number?.double != 0 { throw .unsupportedComponent(stage: "model", type: "BPE with dropout") }
            return .bpe(
                try BPEModel(
                    vocab: vocab, merges: merges, byteLevel: byteLevel, unkToken: m["unk_token"]?.string,
                    byteFallback: m["byte_fallback"]?.bool ?? false, fuseUnk: m["fuse_unk"]?.bool ?? false,
                    ignoreMerges: m["ignore_merges"]?.bool ?? false,
                    continuingSubwordPrefix: m["continuing_subword_prefix"]?.string,
                    endOfWordSuffix: m["end_of_word_suffix"]?.string))
        case "Unigram":
            guard let arr = m["vocab"]?.array else { throw .invalidField(path: path, key: "model.vocab", expected: "an array of [piece, score]") }
            var pieces: [(String, Double)] = []
            pieces.reserveCapacity(arr.count)
            for (k, e) in arr.enumerated() {
                guard let pair = e.array, pair.count == 2, let s = pair[0].string, let sc = pair[1].number?.double else {
                    throw .invalidField(path: path, key: "model.vocab[\(k)]", expected: "[piece, score]")
                }
                pieces.append((s, sc))
            }
            let unk = m["unk_id"]?.number?.int64.map { Int($0) }
            return .unigram(try UnigramModel(pieces: pieces, unkId: unk, byteFallback: m["byte_fallback"]?.bool ?? false))
        default:
            throw .unsupportedComponent(stage: "model", type: type.isEmpty ? "(missing)" : type)
        }
    }

    mutating func rebuildAddedTokens() throws(TokenizerError) {
        addedById = [:]
        addedByContent = StringIds()
        var raw: [(String, AddedToken)] = []
        var norm: [(String, AddedToken)] = []
        for t in addedTokens {
            if addedById[t.id] != nil { throw .duplicateToken("id \(t.id)", context: "\(source) added_tokens") }
            addedById[t.id] = t
            addedByContent[t.content] = t.id
            if t.normalized {
                norm.append((normalizer?.apply(t.content, continuation: false) ?? t.content, t))
            } else {
                raw.append((t.content, t))
            }
        }
        rawMatcher = AddedTokenMatcher(raw)
        normalizedMatcher = AddedTokenMatcher(norm)
    }

    mutating func resolveSpecialTokens(path: String) throws(TokenizerError) {
        var s = SpecialTokens()
        s.specialIds = Set(addedTokens.filter { $0.special }.map { $0.id })
        func lookup(_ role: String) -> (Int, String)? {
            guard let t = config.token(role), let id = self.id(for: t) else { return nil }
            return (id, t)
        }
        s.bos = lookup("bos_token")
        s.eos = lookup("eos_token")
        s.unk = lookup("unk_token")
        s.pad = lookup("pad_token")
        if s.unk == nil {
            switch model {
            case .bpe(let b): if let u = b.unkToken, let id = b.unkId { s.unk = (Int(id), u) }
            case .unigram(let u): if let t = token(for: u.unkId) { s.unk = (u.unkId, t) }
            }
        }
        // transformers rebuilds the template of Llama-class tokenizers from add_bos_token/add_eos_token.
        if let cls = config.tokenizerClass, cls.hasPrefix("LlamaTokenizer"), config.addBosToken != nil || config.addEosToken != nil {
            let addB = config.addBosToken ?? true, addE = config.addEosToken ?? false
            postProcessor = .bosEos(bos: addB ? s.bos : nil, eos: addE ? s.eos : nil)
        }
        let template = postProcessor?.single ?? []
        if case .special(_, let ids)? = template.first, let b = s.bos, ids == [b.id] { s.addBos = true }
        if case .special(_, let ids)? = template.last, let e = s.eos, ids == [e.id] { s.addEos = true }
        if s.bos == nil, case .special(let t, let ids)? = template.first, ids.count == 1 { s.bos = (ids[0], t); s.addBos = true }
        specialTokens = s
    }

    // MARK: Tokenizer

    public var vocabularySize: Int {
        var n: Int
        switch model {
        case .bpe(let b): n = b.idToToken.count
        case .unigram(let u): n = u.pieces.count
        }
        if let last = addedTokens.last { n = max(n, last.id + 1) }
        return n
    }

    public func token(for id: Int) -> String? {
        if let a = addedById[id] { return a.content }
        switch model {
        case .bpe(let b): return id >= 0 && id < b.idToToken.count ? b.idToToken[id] : nil
        case .unigram(let u): return id >= 0 && id < u.pieces.count ? u.pieces[id].0 : nil
        }
    }

    public func id(for token: String) -> Int? {
        if let a = addedByContent[token] { return a }
        switch model {
        case .bpe(let b): return b.tokenToId[token]
        case .unigram(let u): return u.tokenToId[token]
        }
    }

    public func tokenBytes(_ id: Int) -> [UInt8]? {
        if let a = addedById[id] { return Array(a.content.utf8) }
        guard let t = token(for: id) else { return nil }
        if let b = parseByteToken(t), hasByteFallback { return [b] }
        if byteLevel { return ByteLevelAlphabet.decode(t) ?? Array(t.utf8) }
        if metaspaceStyle { return Array(t.replacingAll(preTokenizer?.metaspace?.replacement ?? "▁", with: " ").utf8) }
        return Array(t.utf8)
    }

    var hasByteFallback: Bool {
        switch model {
        case .bpe(let b): return b.byteFallback
        case .unigram(let u): return u.byteFallback
        }
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        let ids = encodeCore(text, continuation: false)
        guard addSpecialTokens, let pp = postProcessor else { return ids.map { Int($0) } }
        var out: [Int] = []
        out.reserveCapacity(ids.count + 2)
        for item in pp.single {
            switch item {
            case .special(_, let s): out.append(contentsOf: s)
            case .sequence: out.append(contentsOf: ids.lazy.map { Int($0) })
            }
        }
        return out
    }

    public func encodeContinuation(_ text: String) -> [Int] { encodeCore(text, continuation: true).map { Int($0) } }

    /// Encodes without the post-processor, as `Int32` ids (the fast path used by benchmarks).
    public func encodeIds(_ text: String) -> [Int32] { encodeCore(text, continuation: false) }

    func encodeCore(_ text: String, continuation: Bool) -> [Int32] {
        var out: [Int32] = []
        var t = text
        t.withUTF8 { p in
            out.reserveCapacity(p.count / 3 + 4)
            if continuation || rawMatcher.isEmpty {
                encodeSegment(p, 0..<p.count, atStart: true, continuation: continuation, into: &out)
                return
            }
            for seg in rawMatcher.split(p) {
                switch seg {
                case .token(let id): out.append(Int32(id))
                case .text(let r): encodeSegment(p, r, atStart: r.lowerBound == 0, continuation: false, into: &out)
                }
            }
        }
        return out
    }

    /// Normalises, splits on normalised added tokens, pre-tokenises and runs the model on `p[r]`.
    private func encodeSegment(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, atStart: Bool, continuation: Bool, into out: inout [Int32]) {
        if r.isEmpty { return }
        var buf: [UInt8]
        if let n = normalizer, n.worksOnBytes {
            buf = n.apply(bytes: Array(UnsafeBufferPointer(rebasing: p[r])), continuation: continuation)
        } else if let n = normalizer {
            let s = String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self)
            buf = Array(n.apply(s, continuation: continuation).utf8)
        } else {
            buf = Array(UnsafeBufferPointer(rebasing: p[r]))
        }
        if !continuation && !normalizedMatcher.isEmpty {
            let segs = buf.withUnsafeBufferPointer { normalizedMatcher.split($0) }
            for s in segs {
                switch s {
                case .token(let id): out.append(Int32(id))
                case .text(let rr): runModel(Array(buf[rr]), atStart: atStart && rr.lowerBound == 0, continuation: continuation, into: &out)
                }
            }
        } else {
            runModel(buf, atStart: atStart, continuation: continuation, into: &out)
        }
    }

    private func runModel(_ buf: [UInt8], atStart: Bool, continuation: Bool, into out: inout [Int32]) {
        if buf.isEmpty { return }
        var pieces = Pieces(buf: buf, ranges: [0..<buf.count], firstAtInputStart: atStart)
        preTokenizer?.apply(&pieces, continuation: continuation)
        pieces.buf.withUnsafeBufferPointer { p in
            switch model {
            case .bpe(let b): for r in pieces.ranges { b.encodeWord(p, r, into: &out) }
            case .unigram(let u): for r in pieces.ranges { u.encodeWord(p, r, into: &out) }
            }
        }
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens, let a = addedById[id], a.special { continue }
            if let t = token(for: id) { tokens.append(t) }
        }
        guard let d = decoder else { return tokens.joined() }
        return d.decodeChain(tokens).joined()
    }
}
