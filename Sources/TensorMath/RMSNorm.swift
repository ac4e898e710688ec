import CKernels

/// Root-mean-square normalisation (LLaMA's `LlamaRMSNorm`), row by row, in parallel.
package enum RMSNorm {
    /// `y[t, i] = w[i] · x[t, i] / √(mean_i x[t, i]² + eps)` for `rows` rows of `width` elements.
    /// `x` and `y` may be the same buffer. Accumulates in Float, as transformers does in float32
    /// (the vector kernels: 16-lane partial sums).
    package static func apply(
        _ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, eps: Float, rows: Int, width: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forChunks(count: rows, minChunk: max(1, 4096 / max(width, 1))) { range in
            for t in range { lep_rmsnorm(x + t * width, w, eps, width, y + t * width) }
        }
    }
}
