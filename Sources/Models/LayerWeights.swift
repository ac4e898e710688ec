import TensorMath

/// The weights of one decoder layer as Float32, named after their checkpoint keys
/// (`model.layers.i.` + the key in the comment). Shapes: h hidden, I intermediate, d head_dim,
/// nH attention heads, nKV key/value heads.
public struct LayerWeights: Sendable {
    /// `input_layernorm.weight` [h]
    public let inputNorm: FloatWeights
    /// `self_attn.q_proj.weight` [nH·d, h]
    public let q: FloatWeights
    /// `self_attn.k_proj.weight` [nKV·d, h]
    public let k: FloatWeights
    /// `self_attn.v_proj.weight` [nKV·d, h]
    public let v: FloatWeights
    /// `self_attn.o_proj.weight` [h, nH·d]
    public let o: FloatWeights
    /// `post_attention_layernorm.weight` [h]
    public let postNorm: FloatWeights
    /// `mlp.gate_proj.weight` [I, h]
    public let gate: FloatWeights
    /// `mlp.up_proj.weight` [I, h]
    public let up: FloatWeights
    /// `mlp.down_proj.weight` [h, I]
    public let down: FloatWeights

    var all: [FloatWeights] { [inputNorm, q, k, v, o, postNorm, gate, up, down] }

    /// Float32 bytes held by the converted tensors.
    public var ownedBytes: Int { all.reduce(0) { $0 + $1.ownedBytes } }
}

/// The matrices of one decoder layer read in place from the mapped checkpoint (F32, BF16 or F16;
/// never converted), for the matrix-vector kernels of decoding; the two norm vectors as Float32.
/// Names and shapes as in `LayerWeights`.
public struct StoredLayer: Sendable {
    public let inputNorm: FloatWeights
    public let q: StoredMatrix
    public let k: StoredMatrix
    public let v: StoredMatrix
    public let o: StoredMatrix
    public let postNorm: FloatWeights
    public let gate: StoredMatrix
    public let up: StoredMatrix
    public let down: StoredMatrix
}
