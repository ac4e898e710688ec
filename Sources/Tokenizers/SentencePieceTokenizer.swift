internal import CSentencePiece

/// A libsentencepiece processor (freed on deinit). The processor's encode/decode are const.
final class SPMProcessor: @unchecked Sendable {
    let handle: OpaquePointer

    init(bytes: [UInt8], path: String) throws(TokenizerError) {
        var err = [CChar](repeating: 0, count: 512)
        let h = bytes.withUnsafeBytes { b in lep_spm_load(b.baseAddress, b.count, &err, err.count) }
        guard let h else {
            throw .invalidSentencePiece(path: path, reason: String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        handle = h
    }
    deinit { lep_spm_free(handle) }

    func encode(_ p: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        if p.isEmpty { return }
        var buf = [Int32](repeating: 0, count: p.count + 16)
        var n = p.withMemoryRebound(to: CChar.self) { lep_spm_encode(handle, $0.baseAddress, $0.count, &buf, buf.count) }
        if n > buf.count {
            buf = [Int32](repeating: 0, count: Int(n))
            n = p.withMemoryRebound(to: CChar.self) { lep_spm_encode(handle, $0.baseAddress, $0.count, &buf, buf.count) }
        }
        if n > 0 { out.append(contentsOf: buf[0..<Int(n)]) }
    }

    func decode(_ ids: [Int32]) -> [UInt8] {
        if ids.isEmpty { return [] }
        var cap = ids.count * 8 + 16
        while true {
            var out = [CChar](repeating: 0, count: cap)
            let n = lep_spm_decode(handle, ids, ids.count, &out, cap)
            if n < 0 { return [] }
            if Int(n) <= cap { return out[0..<Int(n)].map { UInt8(bitPattern: $0) } }
            cap = Int(n)
        }
    }
}

/// A SentencePiece `.model` (BPE or Unigram) encoded and decoded by libsentencepiece, with the
/// model proto read in Swift for piece types, byte fallback and normaliser settings.
///
/// Control pieces (`<s>`, `</s>`) and `<unk>` written in the text are matched as single ids (as
/// transformers does); the text between them is encoded by sentencepiece.
public struct SentencePieceTokenizer: Tokenizer {
    /// The parsed model proto.
    public let model: SentencePieceModel
    let processor: SPMProcessor
    /// Same model with `add_dummy_prefix` and `remove_extra_whitespaces` off: encoding inside running text.
    let continuationProcessor: SPMProcessor
    let pieceToId: StringIds
    let matcher: AddedTokenMatcher
    public let specialTokens: SpecialTokens
    public let addedTokens: [AddedToken]
    /// The tokenizer_config.json / special_tokens_map.json it was loaded with; BOS/EOS addition and the
    /// pad token were taken from it at init (changing it later changes neither).
    public var config: TokenizerConfig

    /// Loads a `.model` file; `config` supplies add_bos_token/add_eos_token when present.
    public init(path: String, config: TokenizerConfig = TokenizerConfig()) throws(TokenizerError) {
        try self.init(bytes: try FileIO.read(path), path: path, config: config)
    }

    /// Parses a serialised `.model` (`path` names it in errors); `config` supplies add_bos_token,
    /// add_eos_token and pad_token when present. Throws ``TokenizerError/invalidSentencePiece(path:reason:)``
    /// for bytes that are not a ModelProto or that libsentencepiece refuses.
    public init(bytes: [UInt8], path: String = "tokenizer.model", config: TokenizerConfig = TokenizerConfig()) throws(TokenizerError) {
        let m = try SentencePieceModel(bytes: bytes, path: path)
        try self.init(model: m, path: path, config: config)
    }

    /// From a model proto (e.g. one lep edited).
    public init(model m: SentencePieceModel, path: String = "tokenizer.model", config: TokenizerConfig = TokenizerConfig()) throws(TokenizerError) {
        model = m
        self.config = config
        processor = try SPMProcessor(bytes: m.serialized(), path: path)
        var c = m
        c.addDummyPrefix = false
        c.removeExtraWhitespaces = false
        continuationProcessor = try SPMProcessor(bytes: c.serialized(), path: path)
        var p2i = StringIds(capacity: m.pieces.count)
        for (i, p) in m.pieces.enumerated() where p2i[p.piece] == nil { p2i[p.piece] = i }
        pieceToId = p2i
        var added: [AddedToken] = []
        for (i, p) in m.pieces.enumerated() where p.type == .control || p.type == .unknown || p.type == .userDefined {
            added.append(AddedToken(id: i, content: p.piece, special: p.type != .userDefined, normalized: false))
        }
        addedTokens = added
        matcher = AddedTokenMatcher(added.filter { $0.special }.map { ($0.content, $0) })
        var s = SpecialTokens(specialIds: Set(added.filter { $0.special }.map { $0.id }))
        func role(_ id: Int) -> (Int, String)? { id >= 0 && id < m.pieces.count ? (id, m.pieces[id].piece) : nil }
        s.bos = role(m.bosId)
        s.eos = role(m.eosId)
        s.unk = role(m.unkId)
        s.pad = role(m.padId)
        if let t = config.token("pad_token"), let id = p2i[t] { s.pad = (id, t) }
        s.addBos = (config.addBosToken ?? true) && s.bos != nil
        s.addEos = (config.addEosToken ?? false) && s.eos != nil
        specialTokens = s
    }

    public var vocabularySize: Int { model.pieces.count }
    public func token(for id: Int) -> String? { id >= 0 && id < model.pieces.count ? model.pieces[id].piece : nil }
    public func id(for token: String) -> Int? { pieceToId[token] }

    public func tokenBytes(_ id: Int) -> [UInt8]? {
        guard let p = token(for: id) else { return nil }
        if model.pieces[id].type == .byte, let b = parseByteToken(p) { return [b] }
        if model.pieces[id].type == .control || model.pieces[id].type == .unknown { return Array(p.utf8) }
        return Array(p.replacingAll("▁", with: " ").utf8)
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var out: [Int32] = []
        if addSpecialTokens, specialTokens.addBos, let b = specialTokens.bos { out.append(Int32(b.id)) }
        var t = text
        t.withUTF8 { p in
            for seg in matcher.split(p) {
                switch seg {
                case .token(let id): out.append(Int32(id))
                case .text(let r): processor.encode(UnsafeBufferPointer(rebasing: p[r]), into: &out)
                }
            }
        }
        if addSpecialTokens, specialTokens.addEos, let e = specialTokens.eos { out.append(Int32(e.id)) }
        return out.map { Int($0) }
    }

    public func encodeContinuation(_ text: String) -> [Int] {
        var out: [Int32] = []
        var t = text
        t.withUTF8 { continuationProcessor.encode($0, into: &out) }
        return out.map { Int($0) }
    }

    /// Decodes; control pieces are written as their text unless skipped (sentencepiece alone would
    /// drop them); unknown pieces decode as sentencepiece decodes them, or are dropped when skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        var run: [Int32] = []
        for id in ids where id >= 0 && id < model.pieces.count {
            let type = model.pieces[id].type
            if type == .control {
                if !run.isEmpty { bytes += processor.decode(run); run.removeAll() }
                if !skipSpecialTokens { bytes += Array(model.pieces[id].piece.utf8) }
            } else if type == .unknown && skipSpecialTokens {
                continue
            } else {
                run.append(Int32(id))
            }
        }
        if !run.isEmpty { bytes += processor.decode(run) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
