import SafeTensors

/// The HF tensor names and shapes of LLaMA / Mistral checkpoints.
public enum TensorLayout {
    /// An expected tensor: name and shape.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let shape: [Int]
    }

    /// Every tensor a checkpoint with `config` should hold, in natural order.
    public static func expected(for c: ModelConfig) -> [Entry] {
        let h = c.hiddenSize, i = c.intermediateSize, d = c.headDim
        var out: [Entry] = [Entry(name: "model.embed_tokens.weight", shape: [c.vocabSize, h])]
        for l in 0..<c.numHiddenLayers {
            let p = "model.layers.\(l)."
            out += [
                Entry(name: p + "input_layernorm.weight", shape: [h]),
                Entry(name: p + "mlp.down_proj.weight", shape: [h, i]),
                Entry(name: p + "mlp.gate_proj.weight", shape: [i, h]),
                Entry(name: p + "mlp.up_proj.weight", shape: [i, h]),
                Entry(name: p + "post_attention_layernorm.weight", shape: [h]),
                Entry(name: p + "self_attn.k_proj.weight", shape: [c.numKeyValueHeads * d, h]),
                Entry(name: p + "self_attn.o_proj.weight", shape: [h, c.numAttentionHeads * d]),
                Entry(name: p + "self_attn.q_proj.weight", shape: [c.numAttentionHeads * d, h]),
                Entry(name: p + "self_attn.v_proj.weight", shape: [c.numKeyValueHeads * d, h])
            ]
        }
        out.append(Entry(name: "model.norm.weight", shape: [h]))
        if !c.tieWordEmbeddings { out.append(Entry(name: "lm_head.weight", shape: [c.vocabSize, h])) }
        return out.sorted { NaturalOrder.less($0.name, $1.name) }
    }

    /// True for 1-D normalisation weights (initialised to ones).
    public static func isNorm(_ name: String) -> Bool { name.hasSuffix("norm.weight") }
}
