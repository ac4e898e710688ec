import TensorMath

/// Causal grouped-query attention over a KV cache (transformers' `eager_attention_forward`), with
/// Mistral's sliding window.
///
/// For query head j (KV head g = j / (nH/nKV)), query row t at position pₜ = p₀ + t:
/// `sₜₛ = (qₜ · kₛ) / √d` for keys s with `pₜ − W < s ≤ pₜ` (W = sliding window, ∞ without one),
/// `a = softmax(s)`, `outₜ = Σₛ aₜₛ vₛ`. Few rows (decoding): one vector kernel per (head, row)
/// computes exactly the visible keys, in parallel over heads and rows. Many rows (prefill): blocks of
/// `blockRows` query rows per head as two matrix products (scores = Q·Kᵀ over the keys the block's
/// last row sees, then out = P·V), the keys a row must not see given weight 0 after its softmax.
enum Attention {
    /// Query rows per block of the matrix-product path, and the fewest rows that take it.
    static let blockRows = 64, productMinRows = 32

    /// q [T, nH·d] (RoPE applied) at positions p₀..<p₀+T; keys/values [p₀+T, nKV·d] from the cache;
    /// writes out [T, nH·d].
    static func forward(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        rows T: Int, firstPosition p0: Int, config c: ModelConfig, into out: UnsafeMutablePointer<Float>
    ) {
        if T >= productMinRows {
            return blocked(q: q, keys: keys, values: values, rows: T, firstPosition: p0, config: c, into: out)
        }
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
                    Kernels.attendTransposed(
                        q: qRow, keysT: kt + g * d * S + (lo - kLo), ldk: S, values: vRows, count: pos + 1 - lo,
                        ld: ld, d: d, scale: scale, scores: scores, into: outRow)
                } else {
                    Kernels.attend(
                        q: qRow, keys: keys + lo * ld + g * d, values: vRows, count: pos + 1 - lo, ld: ld, d: d,
                        scale: scale, scores: scores, into: outRow)
                }
            }
        }
    }

    /// The matrix-product path: for head j and query rows t₀..<t₀+R (one task each, in parallel),
    /// `P = scale · Q·Kᵀ` [R, n] over keys lo..<lo+n (lo = the first row's window start, lo+n−1 = the
    /// last row's position), each row's softmax over its own visible keys and 0 elsewhere, then
    /// `out = P·V`. Single-threaded sgemm per task (the threads are lep's).
    static func blocked(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        rows T: Int, firstPosition p0: Int, config c: ModelConfig, into out: UnsafeMutablePointer<Float>
    ) {
        let d = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads
        let group = nH / nKV, ld = nKV * d, ldq = nH * d
        let window = c.slidingWindow ?? Int.max
        let scale = Float(1 / Double(d).squareRoot())
        let R = blockRows, blocks = (T + R - 1) / R
        func windowStart(_ pos: Int) -> Int { window == Int.max ? 0 : max(0, pos - window + 1) }
        // Tasks head-major: a chunk of tasks reuses its head's keys and values from cache.
        BLAS.forChunksSingleThreaded(count: nH * blocks, minChunk: 1) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: R * (p0 + T))
            defer { scores.deallocate() }
            for task in range {
                let j = task / blocks, t0 = (task % blocks) * R, g = j / group
                let rows = min(R, T - t0)
                let lo = windowStart(p0 + t0), n = p0 + t0 + rows - lo
                // scores [rows, n] = scale · Q[t₀..<t₀+rows, head j] · K[lo..<lo+n, head g]ᵀ
                BLAS.unthreadedSgemm(
                    transB: true, m: rows, n: n, k: d, alpha: scale, a: q + t0 * ldq + j * d, lda: ldq,
                    b: keys + lo * ld + g * d, ldb: ld, c: scores, ldc: n)
                for r in 0..<rows {
                    let pos = p0 + t0 + r, first = windowStart(pos) - lo, end = pos + 1 - lo
                    let row = scores + r * n
                    row.update(repeating: 0, count: first)
                    Kernels.softmax(row + first, count: end - first)
                    (row + end).update(repeating: 0, count: n - end)
                }
                // out[t₀..<t₀+rows, head j] = P · V[lo..<lo+n, head g]
                BLAS.unthreadedSgemm(
                    m: rows, n: d, k: n, a: scores, lda: n, b: values + lo * ld + g * d, ldb: ld,
                    c: out + t0 * ldq + j * d, ldc: ldq)
            }
        }
    }
}
