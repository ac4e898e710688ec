import TensorMath

/// Causal grouped-query attention over a KV cache (transformers' `eager_attention_forward`), with
/// Mistral's sliding window.
///
/// For query head j (KV head g = j / (nH/nKV)), query row t at position pₜ = p₀ + t:
/// `sₜₛ = (qₜ · kₛ) / √d` for keys s with `pₜ − W < s ≤ pₜ` (W = sliding window, ∞ without one),
/// `a = softmax(s)`, `outₜ = Σₛ aₜₛ vₛ`. One vector kernel per (head, row) computes exactly the
/// visible keys (no masked work), in parallel over heads and rows.
enum Attention {
    /// q [T, nH·d] (RoPE applied) at positions p₀..<p₀+T; keys/values [p₀+T, nKV·d] from the cache;
    /// writes out [T, nH·d].
    static func forward(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        rows T: Int, firstPosition p0: Int, config c: ModelConfig, into out: UnsafeMutablePointer<Float>
    ) {
        let d = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads
        let group = nH / nKV, ld = nKV * d
        let window = c.slidingWindow ?? Int.max
        let scale = Float(1 / Double(d).squareRoot())
        let longest = p0 + T
        // Tasks ordered head-major, so one chunk reuses its head's keys and values from cache.
        Parallel.forChunks(count: nH * T, minChunk: max(1, 65536 / max(1, longest * d))) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: longest)
            defer { scores.deallocate() }
            for task in range {
                let j = task / T, t = task % T, g = j / group
                let pos = p0 + t
                let lo = window == Int.max ? 0 : max(0, pos - window + 1)
                Kernels.attend(q: q + t * nH * d + j * d, keys: keys + lo * ld + g * d, values: values + lo * ld + g * d,
                               count: pos + 1 - lo, ld: ld, d: d, scale: scale, scores: scores, into: out + t * nH * d + j * d)
            }
        }
    }
}
