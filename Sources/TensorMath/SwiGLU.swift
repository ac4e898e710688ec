#if canImport(Glibc)
import Glibc
#endif

/// The gated activation of LLaMA's MLP: `silu(gate) ⊙ up`.
public enum SwiGLU {
    /// `gate[i] = gate[i] · σ(gate[i]) · up[i]` for `count` elements, in place, in parallel.
    public static func apply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        Parallel.forChunks(count: count, minChunk: 1 << 14) { range in
            for i in range {
                let g = gate[i]
                gate[i] = g / (1 + expf(-g)) * up[i]
            }
        }
    }
}
