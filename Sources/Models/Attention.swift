#if canImport(Glibc)
import Glibc
#endif
import TensorMath

/// Causal grouped-query attention over a KV cache (transformers' `eager_attention_forward`), with
/// Mistral's sliding window.
///
/// For query head j (KV head g = j / (nH/nKV)), query row t at position pₜ = p₀ + t:
/// `sₜₛ = (qₜ · kₛ) / √d` for keys s with `pₜ − W < s ≤ pₜ` (W = sliding window, ∞ without one),
/// `a = softmax(s)`, `outₜ = Σₛ aₜₛ vₛ`. Scores are one sgemm per head, values a second.
enum Attention {
    /// q [T, nH·d] (RoPE applied) at positions p₀..<p₀+T; keys/values [p₀+T, nKV·d] from the cache;
    /// writes out [T, nH·d].
    static func forward(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        rows T: Int, firstPosition p0: Int, config c: ModelConfig, into out: UnsafeMutablePointer<Float>
    ) {
        let d = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads
        let group = nH / nKV
        let window = c.slidingWindow ?? Int.max
        // Keys visible to any row: from the first row's window start to the last row's position.
        let kLo = window == Int.max ? 0 : max(0, p0 - window + 1)
        let S = p0 + T - kLo
        let scale = Float(1 / Double(d).squareRoot())
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: T * S)  // [T, S]
        defer { scores.deallocate() }
        for j in 0..<nH {
            let g = j / group
            // scores [T, S] = scale · Q_j [T, d] · K_g [S, d]ᵀ
            BLAS.sgemm(transB: true, m: T, n: S, k: d, alpha: scale, a: q + j * d, lda: nH * d,
                       b: keys + kLo * nKV * d + g * d, ldb: nKV * d, c: scores, ldc: S)
            // mask (s > pₜ or s ≤ pₜ − W) and softmax per row
            Parallel.forChunks(count: T, minChunk: max(1, 8192 / S)) { range in
                for t in range {
                    let row = scores + t * S
                    let pos = p0 + t
                    let lo = window == Int.max ? 0 : max(0, pos - window + 1) - kLo
                    let hi = pos - kLo + 1
                    for s in 0..<lo { row[s] = 0 }
                    for s in hi..<S { row[s] = 0 }
                    Softmax.inPlace(row + lo, count: hi - lo)
                }
            }
            // out_j [T, d] = A [T, S] · V_g [S, d]
            BLAS.sgemm(m: T, n: d, k: S, a: scores, lda: S, b: values + kLo * nKV * d + g * d, ldb: nKV * d,
                       c: out + j * d, ldc: nH * d)
        }
    }
}
