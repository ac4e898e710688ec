import CKernels

/// The gated activation of LLaMA's MLP: `silu(gate) ⊙ up`.
package enum SwiGLU {
    /// `gate[i] = gate[i] · σ(gate[i]) · up[i]` (computed as `g / (1 + exp(−g)) · u`) for `count`
    /// elements, in place, in parallel, with the vector kernels' exponential.
    package static func apply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        Parallel.forChunks(count: count, minChunk: 1 << 14) { range in
            lep_swiglu(gate + range.lowerBound, up + range.lowerBound, range.count)
        }
    }
}
