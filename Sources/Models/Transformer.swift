import TensorMath

/// The verification forward pass of `LlamaForCausalLM` and `MistralForCausalLM` in Float32,
/// a port of transformers' `modeling_llama.py` / `modeling_mistral.py` (one implementation: Mistral
/// is LLaMA with a sliding attention window).
///
/// Read top to bottom in `forward`. Notation: T new tokens at positions p₀..<p₀+T (p₀ = tokens
/// already in the cache), h hidden size, I intermediate size, nH query heads, nKV key/value heads,
/// d head_dim, V vocabulary size. Matrix products go to OpenBLAS (`BLAS.linear`: y = x·Wᵀ);
/// element loops run in parallel (`TensorMath`).
public final class Transformer {
    /// Which positions get logits.
    public enum Logits: Sendable {
        /// Every new position: [T, V].
        case all
        /// Only the last new position: [V] (generation).
        case last
    }

    /// The configuration.
    public let config: ModelConfig
    /// The weights (mapped, converted per layer).
    public let weights: ModelWeights
    /// RoPE frequencies.
    public let rope: RotaryEmbedding

    /// Opens and validates the model in `directory`.
    public convenience init(directory: String, residentBudget: Int = ModelWeights.defaultResidentBudget) throws(ModelError) {
        try self.init(weights: try ModelWeights(directory: directory, residentBudget: residentBudget))
    }

    /// A forward pass over validated `weights`.
    public init(weights: ModelWeights) throws(ModelError) {
        self.weights = weights
        config = weights.config
        rope = try RotaryEmbedding(config: config, path: weights.checkpoint.directory + "/config.json")
    }

    /// A KV cache with room for `capacity` positions.
    public func makeCache(capacity: Int) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// Runs `tokens` after the positions already in `cache`, appends their keys and values to it,
    /// and returns the logits ([T, V] row-major for `.all`, [V] for `.last`).
    public func forward(_ tokens: [Int], cache: KVCache, logits mode: Logits = .all) throws(ModelError) -> [Float] {
        let c = config
        let T = tokens.count, p0 = cache.count
        let h = c.hiddenSize, I = c.intermediateSize, d = c.headDim
        let nH = c.numAttentionHeads, nKV = c.numKeyValueHeads, V = c.vocabSize
        let eps = Float(c.rmsNormEps)
        guard T > 0 else { throw .sequenceLength(reason: "no tokens to run") }
        guard p0 + T <= cache.capacity else {
            throw .sequenceLength(reason: "\(p0) cached + \(T) new positions exceed the KV cache capacity \(cache.capacity)")
        }

        let x = scratch(T * h)          // residual stream [T, h]
        let xn = scratch(T * h)         // normalised input of a block [T, h]
        let q = scratch(T * nH * d)     // queries [T, nH·d]
        let attn = scratch(T * nH * d)  // attention output before o_proj [T, nH·d]
        let gate = scratch(T * I)       // [T, I]
        let up = scratch(T * I)         // [T, I]
        defer { [x, xn, q, attn, gate, up].forEach { $0.deallocate() } }

        // x = embed_tokens[tokens]                                             [T, h]
        try weights.embed(tokens, into: x)

        for l in 0..<c.numHiddenLayers {
            let w = try weights.layer(l)
            let kRows = cache.keys[l] + p0 * nKV * d    // this step's keys   [T, nKV·d] in the cache
            let vRows = cache.values[l] + p0 * nKV * d  // this step's values [T, nKV·d] in the cache

            // --- self-attention block: x = x + o_proj(attention(rmsnorm(x))) ---
            // xn = x / √(mean(x²) + ε) ⊙ input_layernorm                            [T, h]
            RMSNorm.apply(x, weight: w.inputNorm.pointer, eps: eps, rows: T, width: h, into: xn)
            // q = xn·Wqᵀ [T, nH·d];  k = xn·Wkᵀ, v = xn·Wvᵀ [T, nKV·d] (into the cache)
            BLAS.linear(xn, rows: T, inFeatures: h, weight: w.q.pointer, outFeatures: nH * d, into: q)
            BLAS.linear(xn, rows: T, inFeatures: h, weight: w.k.pointer, outFeatures: nKV * d, into: kRows)
            BLAS.linear(xn, rows: T, inFeatures: h, weight: w.v.pointer, outFeatures: nKV * d, into: vRows)
            // rotate q and k by their positions p₀..<p₀+T (rotate-half RoPE)
            rope.apply(q, rows: T, heads: nH, firstPosition: p0)
            rope.apply(kRows, rows: T, heads: nKV, firstPosition: p0)
            // attn = softmax(q·kᵀ/√d + causal/sliding mask)·v over positions 0..<p₀+T   [T, nH·d]
            Attention.forward(q: q, keys: cache.keys[l], values: cache.values[l], rows: T, firstPosition: p0,
                              config: c, into: attn)
            // x = x + attn·Woᵀ                                                     [T, h]
            BLAS.sgemm(transB: true, m: T, n: h, k: nH * d, a: attn, lda: nH * d, b: w.o.pointer, ldb: nH * d,
                       beta: 1, c: x, ldc: h)

            // --- MLP block: x = x + down_proj(silu(gate_proj(xn)) ⊙ up_proj(xn)) ---
            // xn = rmsnorm(x) ⊙ post_attention_layernorm                           [T, h]
            RMSNorm.apply(x, weight: w.postNorm.pointer, eps: eps, rows: T, width: h, into: xn)
            // gate = xn·Wgᵀ, up = xn·Wuᵀ                                           [T, I]
            BLAS.linear(xn, rows: T, inFeatures: h, weight: w.gate.pointer, outFeatures: I, into: gate)
            BLAS.linear(xn, rows: T, inFeatures: h, weight: w.up.pointer, outFeatures: I, into: up)
            // gate = silu(gate) ⊙ up, silu(z) = z·σ(z)                              [T, I]
            SwiGLU.apply(gate: gate, up: up, count: T * I)
            // x = x + gate·Wdᵀ                                                     [T, h]
            BLAS.sgemm(transB: true, m: T, n: h, k: I, a: gate, lda: I, b: w.down.pointer, ldb: I,
                       beta: 1, c: x, ldc: h)
            withExtendedLifetime(w) {}  // converted weights are freed only after their last product
        }
        cache.count = p0 + T

        // --- head: logits = rmsnorm(x) ⊙ norm · W_lmᵀ (lm_head, or embed_tokens when tied) ---
        let first = mode == .all ? 0 : T - 1
        let rows = T - first
        RMSNorm.apply(x + first * h, weight: weights.finalNorm.pointer, eps: eps, rows: rows, width: h, into: xn)
        var out = [Float](repeating: 0, count: rows * V)                       // [rows, V]
        try out.withUnsafeMutableBufferPointer { (o: inout UnsafeMutableBufferPointer<Float>) throws(ModelError) in
            try weights.project(xn, rows: rows, into: o.baseAddress!)
        }
        return out
    }
}

/// An uninitialised Float32 scratch buffer (the caller deallocates it).
func scratch(_ count: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: max(count, 1)) }
