extension SentencePieceModel {
    /// A new ModelProto from pieces and settings (as llama.cpp's `llama` tokenizers describe them):
    /// the trainer spec holds the model type, vocabulary size, byte fallback and special ids; the
    /// normaliser spec its name and flags (LLaMA: `identity`, dummy prefix, no whitespace folding).
    public static func build(
        pieces: [Piece], modelType: ModelType, byteFallback: Bool, unkId: Int, bosId: Int, eosId: Int, padId: Int,
        normalizerName: String = "identity", addDummyPrefix: Bool = true, removeExtraWhitespaces: Bool = false,
        escapeWhitespaces: Bool = true
    ) throws(TokenizerError) -> SentencePieceModel {
        // The specs are encoded here; the pieces by `serialized()` (one placeholder piece to parse).
        var out: [UInt8] = []
        var placeholder: [UInt8] = []
        ProtoWriter.bytes(1, Array("<unk>".utf8), into: &placeholder)
        ProtoWriter.bytes(1, placeholder, into: &out)
        func int(_ f: Int, _ v: Int, into o: inout [UInt8]) {
            ProtoWriter.key(f, 0, into: &o); ProtoWriter.varint(UInt64(bitPattern: Int64(v)), into: &o)
        }
        var trainer: [UInt8] = []
        int(3, modelType.rawValue, into: &trainer)
        int(4, pieces.count, into: &trainer)
        int(35, byteFallback ? 1 : 0, into: &trainer)
        int(40, unkId, into: &trainer)
        int(41, bosId, into: &trainer)
        int(42, eosId, into: &trainer)
        int(43, padId, into: &trainer)
        ProtoWriter.bytes(2, trainer, into: &out)
        var normalizer: [UInt8] = []
        ProtoWriter.bytes(1, Array(normalizerName.utf8), into: &normalizer)
        int(3, addDummyPrefix ? 1 : 0, into: &normalizer)
        int(4, removeExtraWhitespaces ? 1 : 0, into: &normalizer)
        int(5, escapeWhitespaces ? 1 : 0, into: &normalizer)
        ProtoWriter.bytes(3, normalizer, into: &out)
        var m = try SentencePieceModel(bytes: out, path: "(built)")
        m.pieces = pieces
        return m
    }
}
