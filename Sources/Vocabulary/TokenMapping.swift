import Surgery
import Tokenizers

/// For every id of a new tokenizer, where its embedding row comes from in the old vocabulary
/// (Documentation/Propagation.md §4): the shared basis of `lep vocab init` (initialisation) and `lep propagate`
/// (the `conversion` row pairs of §5).
///
/// Rules, in order, for new id `i`:
/// 1. a special token (bos/eos/unk/pad, an added token marked special, a control piece) whose string
///    is a token of the old vocabulary → `.copy(old)`; one the old vocabulary lacks → `.unmapped`;
/// 2. a byte token `<0xNN>` → the old `<0xNN>`, or, for a byte-level old tokenizer, the old token of
///    the byte's own GPT-2 character (`Ċ` for 0x0A) → `.copy(old)`;
/// 3. a token whose bytes (``Tokenizer/tokenBytes(_:)``) are those of an old non-special token →
///    `.copy(old)`: the same piece string when it has these bytes, else the lowest such old id (old
///    `<0xNN>` pieces only when nothing else has the byte). Every token an extended vocabulary keeps
///    thus keeps its own row, bit for bit, including byte-level pieces that are not UTF-8 on their own
///    (`¡` = 0xA1, LLaMA-3's `Ð`/`Ñ` lead bytes);
/// 4. otherwise the piece's bytes encoded with the old tokenizer as running text
///    (``Tokenizer/encodeContinuation(_:)``) → `.subTokens(ids)`. Bytes are never decoded lossily:
///    each maximal valid UTF-8 run is encoded as text, each byte that is not valid UTF-8 where it stands
///    maps to the old token of that byte (`<0xNN>` or its byte-level character); a byte without one,
///    or an empty encoding → `.unmapped`.
public struct TokenMapping: Sendable, Equatable {
    /// Where one new token's row comes from.
    public enum Source: Sendable, Equatable {
        /// Copy one old row (a special, byte or same-bytes token found in the old vocabulary).
        case copy(Int)
        /// Aggregate these old rows (mean / sum / occurrence-weighted), in encoding order (ids may repeat).
        case subTokens([Int])
        /// No old row: a special token the old vocabulary lacks, or an empty encoding.
        case unmapped
    }

    /// One entry per new id, `0..<newVocabularySize`.
    public let sources: [Source]

    /// Builds the mapping for ids `0..<count` of `new` (default: its whole vocabulary), using `old`.
    /// Old ids `>= oldRows` (when given) are treated as absent: a row must exist to be copied.
    public init(new: any Tokenizer, old: any Tokenizer, count: Int? = nil, oldRows: Int? = nil) {
        let n = count ?? new.vocabularySize
        let limit = oldRows ?? Int.max
        var specials = TokenMapping.specialIds(new)
        for p in [new.specialTokens.bos, new.specialTokens.eos, new.specialTokens.unk, new.specialTokens.pad] {
            if let p { specials.insert(p.id) }
        }
        let oldSpecials = TokenMapping.specialIds(old)
        let oldByBytes = TokenMapping.oldTokensByBytes(old, rows: limit, specials: oldSpecials)
        var out = [Source](repeating: .unmapped, count: n)
        for i in 0..<n {
            guard let piece = new.token(for: i) else { continue }
            if specials.contains(i) {
                if let j = old.id(for: piece), j < limit { out[i] = .copy(j) }
                continue
            }
            if let b = TokenMapping.byteTokenValue(piece) {
                if let j = TokenMapping.oldByteToken(b, in: old), j < limit { out[i] = .copy(j) }
                continue
            }
            guard let bytes = new.tokenBytes(i), !bytes.isEmpty else { continue }
            if let j = old.id(for: piece), j < limit, !oldSpecials.contains(j), old.tokenBytes(j) == bytes {
                out[i] = .copy(j)
            } else if let j = oldByBytes[bytes] {
                out[i] = .copy(j)
            } else if let ids = TokenMapping.encodeBytes(bytes, with: old), !ids.isEmpty, ids.allSatisfy({ $0 >= 0 && $0 < limit }) {
                out[i] = .subTokens(ids)
            }
        }
        sources = out
    }

    /// The special ids of `t`: its special-tokens set and every added token marked special.
    static func specialIds(_ t: any Tokenizer) -> Set<Int> {
        var s = t.specialTokens.specialIds
        for a in t.addedTokens where a.special { s.insert(a.id) }
        return s
    }

    /// Old non-special tokens `0..<rows` by their bytes, the lowest id for each; `<0xNN>` byte pieces
    /// only for bytes no other token has.
    static func oldTokensByBytes(_ old: any Tokenizer, rows: Int, specials: Set<Int>) -> [[UInt8]: Int] {
        var byBytes: [[UInt8]: Int] = [:]
        var bytePieces: [(UInt8, Int)] = []
        for j in 0..<min(rows, old.vocabularySize) where !specials.contains(j) {
            guard let b = old.tokenBytes(j), !b.isEmpty else { continue }
            if let p = old.token(for: j), let v = byteTokenValue(p) { bytePieces.append((v, j)); continue }
            if byBytes[b] == nil { byBytes[b] = j }
        }
        for (v, j) in bytePieces where byBytes[[v]] == nil { byBytes[[v]] = j }
        return byBytes
    }

    /// `bytes` encoded with `old` as running text without lossy decoding: each maximal valid UTF-8 run
    /// through ``Tokenizer/encodeContinuation(_:)``, each invalid byte as the old token of that byte
    /// (``oldByteToken(_:in:)``). Nil when such a byte has no old token.
    public static func encodeBytes(_ bytes: [UInt8], with old: any Tokenizer) -> [Int]? {
        var ids: [Int] = []
        var run: [UInt8] = []
        func flush() {
            if !run.isEmpty { ids += old.encodeContinuation(String(decoding: run, as: UTF8.self)); run.removeAll() }
        }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var position = 0
        parsing: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                run += scalar
                position += scalar.count
            case .error(let length):
                flush()
                for b in bytes[position..<(position + length)] {
                    guard let j = oldByteToken(b, in: old) else { return nil }
                    ids.append(j)
                }
                position += length
            case .emptyInput:
                break parsing
            }
        }
        flush()
        return ids
    }

    /// A mapping given explicitly (tests, occurrence maps).
    public init(sources: [Source]) { self.sources = sources }

    /// Number of new ids.
    public var count: Int { sources.count }

    /// New ids that map to nothing (to be reported).
    public var unmappedIds: [Int] { sources.indices.filter { sources[$0] == .unmapped } }

    /// The byte NN of a SentencePiece byte piece `<0xNN>`, nil for any other string.
    public static func byteTokenValue(_ piece: String) -> UInt8? { parseByteToken(piece) }

    /// The old id standing for byte `b`: `<0xNN>` (SentencePiece byte fallback) or, for a byte-level
    /// vocabulary, the GPT-2 character of `b` (checked through `tokenBytes`).
    public static func oldByteToken(_ b: UInt8, in old: any Tokenizer) -> Int? {
        let hex = Array("0123456789ABCDEF")
        if let j = old.id(for: "<0x\(hex[Int(b >> 4)])\(hex[Int(b & 15)])>") { return j }
        if let j = old.id(for: ByteLevelAlphabet.encode([b])), old.tokenBytes(j) == [b] { return j }
        return nil
    }

    /// For each new id whose text (``Tokenizer/tokenBytes(_:)``) is also the text of an old token,
    /// that old id (the lowest one): the `overlap` mode's pairs (Documentation/Propagation.md §5). Special tokens match by
    /// string, like in ``init(new:old:count:oldRows:)``.
    public static func sharedTokens(new: any Tokenizer, old: any Tokenizer, count: Int? = nil, oldRows: Int? = nil) -> [(new: Int, old: Int)] {
        let n = count ?? new.vocabularySize
        let limit = min(oldRows ?? Int.max, old.vocabularySize)
        let specialsNew = specialIds(new), specialsOld = specialIds(old)
        var byText: [[UInt8]: Int] = [:]
        for j in 0..<limit where !specialsOld.contains(j) {
            if let b = old.tokenBytes(j), !b.isEmpty, byText[b] == nil { byText[b] = j }
        }
        var out: [(new: Int, old: Int)] = []
        for i in 0..<n {
            if specialsNew.contains(i) {
                if let p = new.token(for: i), let j = old.id(for: p), j < limit { out.append((i, j)) }
                continue
            }
            if let b = new.tokenBytes(i), !b.isEmpty, let j = byText[b] { out.append((i, j)) }
        }
        return out
    }
}
