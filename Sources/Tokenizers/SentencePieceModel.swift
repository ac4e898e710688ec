/// A SentencePiece `ModelProto` read and written in Swift (the Debian -dev package ships no
/// `sentencepiece_model.pb.h`): pieces with scores and types, the trainer and normaliser settings lep
/// needs; every other field is kept as raw bytes and written back unchanged.
public struct SentencePieceModel: Sendable, Equatable {
    /// Piece types (`ModelProto.SentencePiece.Type`).
    public enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// One vocabulary entry.
    public struct Piece: Sendable, Equatable {
        /// The piece text, `▁` for a space (e.g. `▁При`, `<0x0A>`, `<s>`).
        public var piece: String
        /// The piece's score: a log-probability for Unigram, the merge priority for BPE (higher merges first).
        public var score: Float
        /// How the piece is treated (normal, control, byte, ...).
        public var type: PieceType
        /// A piece; normal unless `type` says otherwise.
        public init(piece: String, score: Float, type: PieceType = .normal) {
            self.piece = piece
            self.score = score
            self.type = type
        }
    }

    /// `TrainerSpec.model_type`.
    public enum ModelType: Int, Sendable { case unigram = 1, bpe = 2, word = 3, char = 4 }

    /// The vocabulary in id order (id = index); written back by ``serialized()``.
    public var pieces: [Piece]
    /// `TrainerSpec.model_type` (default unigram). Read only: ``serialized()`` keeps the trainer spec as read.
    public private(set) var modelType: ModelType
    /// `TrainerSpec.byte_fallback`: unknown characters become `<0xNN>` byte pieces. Read only, as ``modelType``.
    public private(set) var byteFallback: Bool
    /// `NormalizerSpec.name` (e.g. `nmt_nfkc`, `identity`). Read only, as ``modelType``.
    public private(set) var normalizerName: String
    /// `NormalizerSpec.add_dummy_prefix`: a space (`▁`) is put before the text. Written back by
    /// ``serialized()`` (into a normalizer spec of its own when the model had none).
    public var addDummyPrefix: Bool
    /// `NormalizerSpec.remove_extra_whitespaces`: leading, trailing and repeated spaces are removed. Written
    /// back as ``addDummyPrefix``.
    public var removeExtraWhitespaces: Bool
    /// `NormalizerSpec.escape_whitespaces`: spaces become `▁`. Written back as ``addDummyPrefix``.
    public var escapeWhitespaces: Bool
    /// `TrainerSpec.unk_id`, `bos_id`, `eos_id`, `pad_id` (defaults 0, 1, 2, −1; −1 = none). Read only, as
    /// ``modelType``.
    public private(set) var unkId: Int, bosId: Int, eosId: Int, padId: Int

    /// Top-level fields other than pieces, in order (field number, raw encoded field bytes).
    private var otherFields: [(Int, [UInt8])]
    private var normalizerFieldIndex: Int?
    /// The normaliser flags as read: when unchanged, the field is written back byte for byte.
    private var parsedFlags: [Bool] = [true, true, true]

    /// Equal when both serialise to the same bytes (so fields ``serialized()`` does not write are not compared).
    public static func == (a: SentencePieceModel, b: SentencePieceModel) -> Bool { a.serialized() == b.serialized() }

    /// Parses a serialized ModelProto.
    public init(bytes: [UInt8], path: String) throws(TokenizerError) {
        var r = ProtoReader(bytes: bytes, path: path)
        pieces = []
        otherFields = []
        modelType = .unigram
        byteFallback = false
        normalizerName = ""
        addDummyPrefix = true
        removeExtraWhitespaces = true
        escapeWhitespaces = true
        unkId = 0; bosId = 1; eosId = 2; padId = -1
        while !r.atEnd {
            let start = r.i
            let (field, wire) = try r.key()
            switch (field, wire) {
            case (1, 2):
                var pr = ProtoReader(bytes: try r.lengthDelimited(), path: path)
                var p = Piece(piece: "", score: 0)
                while !pr.atEnd {
                    let (f, w) = try pr.key()
                    switch (f, w) {
                    case (1, 2): p.piece = String(decoding: try pr.lengthDelimited(), as: UTF8.self)
                    case (2, 5): p.score = Float(bitPattern: try pr.fixed32())
                    case (3, 0):
                        let t = try pr.varint()
                        guard let pt = PieceType(rawValue: Int(t)) else { throw .invalidSentencePiece(path: path, reason: "piece \(pieces.count) has type \(t)") }
                        p.type = pt
                    default: try pr.skip(w)
                    }
                }
                pieces.append(p)
            case (2, 2):
                var tr = ProtoReader(bytes: try r.lengthDelimited(), path: path)
                while !tr.atEnd {
                    let (f, w) = try tr.key()
                    switch (f, w) {
                    case (3, 0): modelType = ModelType(rawValue: Int(try tr.varint())) ?? .unigram
                    case (35, 0): byteFallback = try tr.varint() != 0
                    case (40, 0): unkId = Int(Int32(truncatingIfNeeded: try tr.varint()))
                    case (41, 0): bosId = Int(Int32(truncatingIfNeeded: try tr.varint()))
                    case (42, 0): eosId = Int(Int32(truncatingIfNeeded: try tr.varint()))
                    case (43, 0): padId = Int(Int32(truncatingIfNeeded: try tr.varint()))
                    default: try tr.skip(w)
                    }
                }
                otherFields.append((field, Array(bytes[start..<r.i])))
            case (3, 2):
                var nr = ProtoReader(bytes: try r.lengthDelimited(), path: path)
                while !nr.atEnd {
                    let (f, w) = try nr.key()
                    switch (f, w) {
                    case (1, 2): normalizerName = String(decoding: try nr.lengthDelimited(), as: UTF8.self)
                    case (3, 0): addDummyPrefix = try nr.varint() != 0
                    case (4, 0): removeExtraWhitespaces = try nr.varint() != 0
                    case (5, 0): escapeWhitespaces = try nr.varint() != 0
                    default: try nr.skip(w)
                    }
                }
                parsedFlags = [addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces]
                normalizerFieldIndex = otherFields.count
                otherFields.append((field, Array(bytes[start..<r.i])))
            default:
                try r.skip(wire)
                otherFields.append((field, Array(bytes[start..<r.i])))
            }
        }
        guard !pieces.isEmpty else { throw .invalidSentencePiece(path: path, reason: "no pieces") }
    }

    /// The ModelProto bytes with the current pieces and normaliser flags.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        for p in pieces {
            var m: [UInt8] = []
            ProtoWriter.bytes(1, Array(p.piece.utf8), into: &m)
            ProtoWriter.key(2, 5, into: &m)
            withUnsafeBytes(of: p.score.bitPattern.littleEndian) { m.append(contentsOf: $0) }
            if p.type != .normal { ProtoWriter.key(3, 0, into: &m); ProtoWriter.varint(UInt64(p.type.rawValue), into: &m) }
            ProtoWriter.bytes(1, m, into: &out)
        }
        for (k, (field, raw)) in otherFields.enumerated() {
            if k == normalizerFieldIndex && parsedFlags != [addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces] {
                // Rewrite add_dummy_prefix (3) / remove_extra_whitespaces (4) / escape_whitespaces (5).
                var nr = ProtoReader(bytes: raw, path: "")
                var body: [UInt8] = []
                if (try? nr.key()) != nil, let inner = try? nr.lengthDelimited() {
                    var ir = ProtoReader(bytes: inner, path: "")
                    while !ir.atEnd {
                        let s = ir.i
                        guard let (f, w) = try? ir.key(), (try? ir.skip(w)) != nil else { break }
                        if f == 3 || f == 4 || f == 5 { continue }
                        body.append(contentsOf: inner[s..<ir.i])
                    }
                }
                for (f, v) in [(3, addDummyPrefix), (4, removeExtraWhitespaces), (5, escapeWhitespaces)] {
                    ProtoWriter.key(f, 0, into: &body); ProtoWriter.varint(v ? 1 : 0, into: &body)
                }
                ProtoWriter.bytes(field, body, into: &out)
            } else {
                out.append(contentsOf: raw)
            }
        }
        if normalizerFieldIndex == nil && parsedFlags != [addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces] {
            // No normalizer_spec (3) was read, so every field had its default; a spec holding just the
            // three flags keeps the other defaults.
            var body: [UInt8] = []
            for (f, v) in [(3, addDummyPrefix), (4, removeExtraWhitespaces), (5, escapeWhitespaces)] {
                ProtoWriter.key(f, 0, into: &body); ProtoWriter.varint(v ? 1 : 0, into: &body)
            }
            ProtoWriter.bytes(3, body, into: &out)
        }
        return out
    }
}

struct ProtoReader {
    let bytes: [UInt8]
    let path: String
    var i = 0
    init(bytes: [UInt8], path: String) { self.bytes = bytes; self.path = path }
    var atEnd: Bool { i >= bytes.count }

    mutating func varint() throws(TokenizerError) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while i < bytes.count && shift < 64 {
            let b = bytes[i]; i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        throw .invalidSentencePiece(path: path, reason: "truncated varint at byte \(i)")
    }
    mutating func key() throws(TokenizerError) -> (Int, Int) {
        let k = try varint()
        let f = Int(k >> 3), w = Int(k & 7)
        guard f > 0 else { throw .invalidSentencePiece(path: path, reason: "field number 0 at byte \(i)") }
        return (f, w)
    }
    mutating func lengthDelimited() throws(TokenizerError) -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(bytes.count - i) else { throw .invalidSentencePiece(path: path, reason: "length \(n) past the end at byte \(i)") }
        defer { i += Int(n) }
        return Array(bytes[i..<(i + Int(n))])
    }
    mutating func fixed32() throws(TokenizerError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw .invalidSentencePiece(path: path, reason: "truncated fixed32 at byte \(i)") }
        defer { i += 4 }
        return UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }
    mutating func skip(_ wire: Int) throws(TokenizerError) {
        switch wire {
        case 0: _ = try varint()
        case 1: guard i + 8 <= bytes.count else { throw .invalidSentencePiece(path: path, reason: "truncated at byte \(i)") }; i += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw .invalidSentencePiece(path: path, reason: "wire type \(wire) at byte \(i)")
        }
    }
}

enum ProtoWriter {
    static func varint(_ v: UInt64, into o: inout [UInt8]) {
        var v = v
        while v >= 0x80 { o.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        o.append(UInt8(v))
    }
    static func key(_ f: Int, _ w: Int, into o: inout [UInt8]) { varint(UInt64(f << 3 | w), into: &o) }
    static func bytes(_ f: Int, _ b: [UInt8], into o: inout [UInt8]) {
        key(f, 2, into: &o); varint(UInt64(b.count), into: &o); o.append(contentsOf: b)
    }
}
