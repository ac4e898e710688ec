import SafeTensors

/// The HF tensor names, roles and shapes of LLaMA / Mistral checkpoints: the one place lep spells them.
public enum TensorLayout {
    /// The input embedding, one row per token id.
    public static let embedTokens = "model.embed_tokens.weight"
    /// The output projection (absent when tied), one row per token id.
    public static let lmHead = "lm_head.weight"
    /// The final RMSNorm weight.
    public static let finalNorm = "model.norm.weight"

    /// The tensors of one decoder layer, by role (names relative to `model.layers.N.`).
    public enum LayerTensor: String, CaseIterable, Sendable {
        case inputNorm = "input_layernorm.weight"
        case q = "self_attn.q_proj.weight"
        case k = "self_attn.k_proj.weight"
        case v = "self_attn.v_proj.weight"
        case o = "self_attn.o_proj.weight"
        case postNorm = "post_attention_layernorm.weight"
        case gate = "mlp.gate_proj.weight"
        case up = "mlp.up_proj.weight"
        case down = "mlp.down_proj.weight"
    }

    /// The full name of layer `layer`'s tensor `t` (`model.layers.3.self_attn.q_proj.weight`).
    public static func name(layer: Int, _ t: LayerTensor) -> String { "model.layers.\(layer).\(t.rawValue)" }

    /// True for the tensors indexed by token id (`embed_tokens`, `lm_head`): the ones a vocabulary change touches.
    public static func isVocabularyIndexed(_ name: String) -> Bool { name == embedTokens || name == lmHead }

    /// An expected tensor: name and shape.
    public struct Entry: Equatable, Sendable {
        /// The tensor's checkpoint name.
        public let name: String
        /// Its shape implied by the config, outermost first (`[vocab_size, hidden_size]` for the embedding).
        public let shape: [Int]
    }

    /// Every tensor a checkpoint with `config` should hold, in natural order.
    public static func expected(for c: ModelConfig) -> [Entry] {
        let h = c.hiddenSize, i = c.intermediateSize, d = c.headDim
        var out: [Entry] = [Entry(name: embedTokens, shape: [c.vocabSize, h])]
        for l in 0..<c.numHiddenLayers {
            out += LayerTensor.allCases.map { t in
                let shape: [Int]
                switch t {
                case .inputNorm, .postNorm: shape = [h]
                case .q: shape = [c.numAttentionHeads * d, h]
                case .k, .v: shape = [c.numKeyValueHeads * d, h]
                case .o: shape = [h, c.numAttentionHeads * d]
                case .gate, .up: shape = [i, h]
                case .down: shape = [h, i]
                }
                return Entry(name: name(layer: l, t), shape: shape)
            }
        }
        out.append(Entry(name: finalNorm, shape: [h]))
        if !c.tieWordEmbeddings { out.append(Entry(name: lmHead, shape: [c.vocabSize, h])) }
        return out.sorted { NaturalOrder.less($0.name, $1.name) }
    }

    /// True for 1-D normalisation weights (initialised to ones).
    public static func isNorm(_ name: String) -> Bool { name.hasSuffix("norm.weight") }
}
