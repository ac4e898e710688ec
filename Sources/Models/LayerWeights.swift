import TensorMath

/// The weights of one decoder layer as Float32, named after their checkpoint keys
/// (`model.layers.i.` + the key in the comment). Shapes: h hidden, I intermediate, d head_dim,
/// nH attention heads, nKV key/value heads.
package struct LayerWeights: Sendable {
    /// `input_layernorm.weight` [h]
    package let inputNorm: FloatWeights
    /// `self_attn.q_proj.weight` [nH·d, h]
    package let q: FloatWeights
    /// `self_attn.k_proj.weight` [nKV·d, h]
    package let k: FloatWeights
    /// `self_attn.v_proj.weight` [nKV·d, h]
    package let v: FloatWeights
    /// `self_attn.o_proj.weight` [h, nH·d]
    package let o: FloatWeights
    /// `post_attention_layernorm.weight` [h]
    package let postNorm: FloatWeights
    /// `mlp.gate_proj.weight` [I, h]
    package let gate: FloatWeights
    /// `mlp.up_proj.weight` [I, h]
    package let up: FloatWeights
    /// `mlp.down_proj.weight` [h, I]
    package let down: FloatWeights

    var all: [FloatWeights] { [inputNorm, q, k, v, o, postNorm, gate, up, down] }

    /// Float32 bytes held by the converted tensors.
    package var ownedBytes: Int { all.reduce(0) { $0 + $1.ownedBytes } }
}

/// The matrices of one decoder layer read in place from the mapped checkpoint (F32, BF16 or F16;
/// never converted), for the matrix-vector kernels of decoding; the two norm vectors as Float32.
/// Names and shapes as in `LayerWeights`.
package struct StoredLayer: Sendable {
    package let inputNorm: FloatWeights
    package let q: StoredMatrix
    package let k: StoredMatrix
    package let v: StoredMatrix
    package let o: StoredMatrix
    package let postNorm: FloatWeights
    package let gate: StoredMatrix
    package let up: StoredMatrix
    package let down: StoredMatrix
}
