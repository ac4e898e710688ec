import Synchronization
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
        if T >= productMinRows, Kernels.hasGEMM,
            tiled(q: q, keys: keys, values: values, rows: T, firstPosition: p0, config: c, into: out)
        {
            return
        }
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

    /// Query rows per task of the tiled path (a multiple of the GEMM kernel's 14-row tile).
    static let tiledRows = 56

    /// The tiled path (the GEMM kernel's tiles): each KV head's visible keys and values are packed
    /// once into 32-key panels, then for head j and query rows t₀..<t₀+R (one task each, claimed by
    /// the threads, longest first) `P = scale · Q·Kᵀ` over the key panels the block sees, each row's
    /// softmax over its own visible keys and 0 elsewhere, `out = P·V`. False when the kernel declined.
    static func tiled(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        rows T: Int, firstPosition p0: Int, config c: ModelConfig, into out: UnsafeMutablePointer<Float>
    ) -> Bool {
        let d = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads
        let group = nH / nKV, ld = nKV * d, ldq = nH * d
        let scale = Float(1 / Double(d).squareRoot())
        // Keys visible to any row: from the first row's window start to the last row's position.
        let kLo = c.slidingWindow.map { max(0, p0 - $0 + 1) } ?? 0
        let n = p0 + T - kLo, per = Kernels.attentionPackedCount(positions: n, d: d)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: nKV * per)
        defer { packed.deallocate() }
        Parallel.forChunks(count: nKV, minChunk: 1) { range in
            for g in range {
                Kernels.attentionPack(
                    keys: keys + kLo * ld + g * d, values: values + kLo * ld + g * d, ld: ld, positions: n, d: d,
                    into: packed + g * per)
            }
        }
        let R = tiledRows, blocks = (T + R - 1) / R
        let declined = Atomic<Bool>(false)
        let pk = UncheckedSendable(UnsafePointer(packed))
        Parallel.forEachClaimed(count: nH * blocks) { task in
            let j = task / blocks, b = blocks - 1 - task % blocks, g = j / group  // later blocks (more keys) first
            let t0 = b * R, rows = min(R, T - t0)
            let done = Kernels.attentionRows(
                q: q + t0 * ldq + j * d, ldq: ldq, rows: rows, firstPosition: p0 + t0, firstKeyPosition: kLo,
                window: c.slidingWindow, packed: pk.value + g * per, positions: n, d: d, scale: scale,
                into: out + t0 * ldq + j * d, ldo: ldq)
            if !done { declined.store(true, ordering: .relaxed) }
        }
        return !declined.load(ordering: .relaxed)
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
