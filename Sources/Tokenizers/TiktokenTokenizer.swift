/// A tiktoken ranks file (`base64 rank` per line; LLaMA-3's original `tokenizer.model`) with the
/// LLaMA-3 split pattern; merging is tiktoken's `byte_pair_merge` (lowest-rank adjacent pair whose
/// concatenation is a token, leftmost first). Id = rank; special tokens follow the ranks.
public struct TiktokenTokenizer: Tokenizer {
    let ranks: ByteMap
    let tokens: [[UInt8]]
    let pattern: SplitPattern
    public let addedTokens: [AddedToken]
    let addedById: [Int: AddedToken]
    let addedByContent: StringIds
    let matcher: AddedTokenMatcher
    public let specialTokens: SpecialTokens
    /// The tokenizer_config.json / special_tokens_map.json it was loaded with; the added tokens, the
    /// BOS/EOS/pad roles and BOS/EOS addition were taken from it at init (changing it later changes none).
    public var config: TokenizerConfig

    /// LLaMA-3's 256 special tokens (Meta's `tokenizer.py`), used when no tokenizer_config.json says otherwise.
    public static func llama3SpecialTokens(base: Int) -> [AddedToken] {
        var names = [
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|reserved_special_token_2|>", "<|reserved_special_token_3|>", "<|start_header_id|>", "<|end_header_id|>",
            "<|reserved_special_token_4|>", "<|eot_id|>"
        ]
        names += (5..<(256 - 10 + 5)).map { "<|reserved_special_token_\($0)|>" }
        return names.enumerated().map { AddedToken(id: base + $0, content: $1, special: true) }
    }

    /// Loads a ranks file; special tokens come from `config`'s `added_tokens_decoder`, else LLaMA-3's.
    public init(path: String, config: TokenizerConfig = TokenizerConfig(), pattern: String? = nil) throws(TokenizerError) {
        let bytes = try FileIO.read(path)
        var map = ByteMap(capacity: 130_000)
        var toks: [[UInt8]] = []
        var line = 1
        var i = 0
        while i < bytes.count {
            var e = i
            while e < bytes.count && bytes[e] != 0x0A { e += 1 }
            let l = bytes[i..<e]
            if !l.isEmpty {
                guard let sp = l.firstIndex(of: 0x20) else { throw .invalidTiktoken(path: path, line: line, reason: "no space") }
                guard let tok = base64Decode(l[l.startIndex..<sp]) else { throw .invalidTiktoken(path: path, line: line, reason: "bad base64") }
                guard let rank = Int(String(decoding: l[(sp + 1)...], as: UTF8.self)), rank >= 0 else { throw .invalidTiktoken(path: path, line: line, reason: "bad rank") }
                guard map.set(tok, Int32(rank)) == nil else { throw .invalidTiktoken(path: path, line: line, reason: "duplicate token") }
                if rank >= toks.count { toks += Array(repeating: [], count: rank - toks.count + 1) }
                toks[rank] = tok
            }
            line += 1
            i = e + 1
        }
        guard !toks.isEmpty else { throw .invalidTiktoken(path: path, line: 1, reason: "empty file") }
        guard let p = SplitPattern(source: pattern ?? SplitPattern.llama3Source) else { throw .unsupportedComponent(stage: "pre_tokenizer", type: "tiktoken pattern \(pattern ?? "")") }
        ranks = map
        tokens = toks
        self.pattern = p
        self.config = config
        var added = try config.addedTokensDecoder(path: "tokenizer_config.json")
        if added.isEmpty { added = TiktokenTokenizer.llama3SpecialTokens(base: toks.count) }
        addedTokens = added
        var byId: [Int: AddedToken] = [:], byContent = StringIds()
        for a in added { byId[a.id] = a; byContent[a.content] = a.id }
        addedById = byId
        addedByContent = byContent
        matcher = AddedTokenMatcher(added.map { ($0.content, $0) })
        var s = SpecialTokens(specialIds: Set(added.filter { $0.special }.map { $0.id }))
        if let b = config.token("bos_token") ?? (config.config.isEmpty ? "<|begin_of_text|>" : nil), let id = byContent[b] { s.bos = (id, b) }
        if let e = config.token("eos_token") ?? (config.config.isEmpty ? "<|end_of_text|>" : nil), let id = byContent[e] { s.eos = (id, e) }
        if let x = config.token("pad_token"), let id = byContent[x] { s.pad = (id, x) }
        s.addBos = (config.addBosToken ?? true) && s.bos != nil
        s.addEos = (config.addEosToken ?? false) && s.eos != nil
        specialTokens = s
    }

    public var vocabularySize: Int { max(tokens.count, (addedTokens.map { $0.id }.max() ?? -1) + 1) }
    public func token(for id: Int) -> String? {
        if let a = addedById[id] { return a.content }
        return id >= 0 && id < tokens.count ? ByteLevelAlphabet.encode(tokens[id]) : nil
    }
    public func id(for token: String) -> Int? {
        if let a = addedByContent[token] { return a }
        return ByteLevelAlphabet.decode(token).flatMap { ranks.get($0) }.map { Int($0) }
    }
    public func tokenBytes(_ id: Int) -> [UInt8]? {
        if let a = addedById[id] { return Array(a.content.utf8) }
        return id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var out: [Int32] = []
        if addSpecialTokens, specialTokens.addBos, let b = specialTokens.bos { out.append(Int32(b.id)) }
        var t = text
        t.withUTF8 { p in
            for seg in matcher.split(p) {
                switch seg {
                case .token(let id): out.append(Int32(id))
                case .text(let r): encodeOrdinary(p, r, into: &out)
                }
            }
        }
        if addSpecialTokens, specialTokens.addEos, let e = specialTokens.eos { out.append(Int32(e.id)) }
        return out.map { Int($0) }
    }

    public func encodeContinuation(_ text: String) -> [Int] {
        var out: [Int32] = []
        var t = text
        t.withUTF8 { encodeOrdinary($0, 0..<$0.count, into: &out) }
        return out.map { Int($0) }
    }

    func encodeOrdinary(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into out: inout [Int32]) {
        pattern.forEachMatch(p, r) { m in
            if let id = ranks.get(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[m]))) { out.append(id); return }
            bytePairMerge(p, m, into: &out)
        }
    }

    /// tiktoken's merge loop over part boundaries.
    func bytePairMerge(_ p: UnsafeBufferPointer<UInt8>, _ m: Range<Int>, into out: inout [Int32]) {
        var bounds = Array(m.lowerBound...m.upperBound)
        func rank(_ k: Int) -> Int32 {
            guard k + 2 < bounds.count else { return .max }
            return ranks.get(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[bounds[k]..<bounds[k + 2]]))) ?? .max
        }
        var rk = (0..<bounds.count).map { rank($0) }
        while bounds.count > 2 {
            var best = Int32.max, at = -1
            for k in 0..<(bounds.count - 2) where rk[k] < best { best = rk[k]; at = k }
            if at < 0 { break }
            bounds.remove(at: at + 1)
            rk.remove(at: at + 1)
            rk[at] = rank(at)
            if at > 0 { rk[at - 1] = rank(at - 1) }
        }
        for k in 0..<(bounds.count - 1) {
            // Every single byte is a token in a complete ranks file; a missing one is skipped.
            if let id = ranks.get(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[bounds[k]..<bounds[k + 1]]))) { out.append(id) }
        }
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let a = addedById[id] { if !(skipSpecialTokens && a.special) { bytes += Array(a.content.utf8) }; continue }
            if id >= 0 && id < tokens.count { bytes += tokens[id] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Standard base64 (with padding) to bytes; nil when invalid.
func base64Decode<C: Collection>(_ s: C) -> [UInt8]? where C.Element == UInt8 {
    var out: [UInt8] = []
    var acc: UInt32 = 0, bits = 0
    for c in s {
        let v: UInt32
        switch c {
        case 0x41...0x5A: v = UInt32(c - 0x41)
        case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
        case 0x30...0x39: v = UInt32(c - 0x30 + 52)
        case 0x2B: v = 62
        case 0x2F: v = 63
        case 0x3D: continue
        default: return nil
        }
        acc = acc << 6 | v
        bits += 6
        if bits >= 8 { bits -= 8; out.append(UInt8((acc >> UInt32(bits)) & 0xFF)) }
    }
    return out
}
