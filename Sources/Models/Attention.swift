import TensorMath

/// Causal grouped-query attention over a KV cache (transformers' `eager_attention_forward`), with
/// Mistral's sliding window.
///
/// For query head j (KV head g = j / (nH/nKV)), query row t at position pₜ = p₀ + t:
/// `sₜₛ = (qₜ · kₛ) / √d` for keys s with `pₜ − W < s ≤ pₜ` (W = sliding window, ∞ without one),
/// `a = softmax(s)`, `outₜ = Σₛ aₜₛ vₛ`. One vector kernel per (head, row) computes exactly the
/// visible keys (no masked work), in parallel over heads and rows. Several rows (prefill) first
/// transpose each KV head's keys once, so the scores are plain vector multiply-adds.
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
        // Keys visible to any row: from the first row's window start to the last row's position.
        let kLo = window == Int.max ? 0 : max(0, p0 - window + 1)
        let S = p0 + T - kLo
        // keysT[g] = K_g[kLo..<p₀+T]ᵀ  [d, S]
        let keysT: UnsafeMutablePointer<Float>? = T > 1 ? .allocate(capacity: nKV * d * S) : nil
        defer { keysT?.deallocate() }
        if let kt = keysT {
            Parallel.forChunks(count: nKV * d, minChunk: max(1, 16384 / S)) { range in
                for gi in range {
                    let src = keys + kLo * ld + (gi / d) * d + gi % d, dst = kt + gi * S
                    for s in 0..<S { dst[s] = src[s * ld] }
                }
            }
        }
        // Tasks ordered head-major, so one chunk reuses its head's keys and values from cache.
        Parallel.forChunks(count: nH * T, minChunk: max(1, 65536 / max(1, S * d))) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: S)
            defer { scores.deallocate() }
            for task in range {
                let j = task / T, t = task % T, g = j / group
                let pos = p0 + t
                let lo = window == Int.max ? 0 : max(0, pos - window + 1)
                let qRow = q + t * nH * d + j * d, outRow = out + t * nH * d + j * d, vRows = values + lo * ld + g * d
                if let kt = keysT {
                    Kernels.attendTransposed(q: qRow, keysT: kt + g * d * S + (lo - kLo), ldk: S, values: vRows, count: pos + 1 - lo,
                                             ld: ld, d: d, scale: scale, scores: scores, into: outRow)
                } else {
                    Kernels.attend(q: qRow, keys: keys + lo * ld + g * d, values: vRows, count: pos + 1 - lo, ld: ld, d: d,
                                   scale: scale, scores: scores, into: outRow)
                }
            }
        }
    }
}
