import Testing

@testable import Tokenizers

/// `SentencePieceModel.serialized()` on a model without a normalizer spec, checked by libsentencepiece
/// itself (the tokenizer encodes with the serialized bytes).
@Suite struct SentencePieceModelTests {
    /// A unigram ModelProto of six pieces and nothing else (no trainer or normalizer spec: every
    /// default applies, add_dummy_prefix included).
    static func bareModel() -> [UInt8] {
        func varint(_ v: UInt64, _ o: inout [UInt8]) {
            var v = v
            while v >= 0x80 { o.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            o.append(UInt8(v))
        }
        var out: [UInt8] = []
        let pieces: [(String, Float, UInt64)] = [("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("▁", -1, 1), ("a", -2, 1), ("▁a", -0.5, 1)]
        for (text, score, type) in pieces {
            var m: [UInt8] = [0x0A]
            varint(UInt64(text.utf8.count), &m)
            m += Array(text.utf8)
            m.append(0x15)
            withUnsafeBytes(of: score.bitPattern.littleEndian) { m += $0 }
            if type != 1 {  // NORMAL is the default and not written
                m.append(0x18)
                varint(type, &m)
            }
            out.append(0x0A)
            varint(UInt64(m.count), &out)
            out += m
        }
        return out
    }

    @Test func flagsOfAModelWithoutNormalizerSpecAreWrittenBack() throws {
        var m = try SentencePieceModel(bytes: Self.bareModel(), path: "bare.model")
        #expect(m.addDummyPrefix && m.normalizerName == "")
        #expect(m.serialized() == Self.bareModel())  // unchanged flags: the bytes as read
        let plain = try SentencePieceTokenizer(model: m)
        #expect(plain.encode("a", addSpecialTokens: false) == [5])  // ▁a
        #expect(plain.encodeContinuation("a") == [4])  // no dummy prefix inside a text
        m.addDummyPrefix = false
        let reread = try SentencePieceModel(bytes: m.serialized(), path: "bare.model")
        #expect(!reread.addDummyPrefix && reread.removeExtraWhitespaces && reread.escapeWhitespaces)
        #expect(try SentencePieceTokenizer(model: m).encode("a", addSpecialTokens: false) == [4])
    }
}
