/// Root-mean-square normalisation (LLaMA's `LlamaRMSNorm`), row by row, in parallel.
package enum RMSNorm {
    /// `y[t, i] = w[i] · x[t, i] / √(mean_i x[t, i]² + eps)` for `rows` rows of `width` elements.
    /// `x` and `y` may be the same buffer. Accumulates in Float, as transformers does in float32.
    package static func apply(
        _ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, eps: Float, rows: Int, width: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forChunks(count: rows, minChunk: max(1, 4096 / max(width, 1))) { range in
            for t in range {
                let xr = x + t * width, yr = y + t * width
                var sum: Float = 0
                for i in 0..<width { sum += xr[i] * xr[i] }
                let inv = 1 / (sum / Float(width) + eps).squareRoot()
                for i in 0..<width { yr[i] = w[i] * (xr[i] * inv) }
            }
        }
    }
}
