#if canImport(Glibc)
import Glibc
#endif
import TensorMath

/// Rotary position embedding in the HF "rotate-half" layout (`LlamaRotaryEmbedding`,
/// transformers `modeling_rope_utils`), with the default and the LLaMA-3.1 (`llama3`) frequencies.
///
/// Inverse frequencies: `θᵢ = 1 / base^(2i/d)`, i < d/2. `llama3` scaling with factor s,
/// low/high frequency factors l/h and original context C: wavelength λᵢ = 2π/θᵢ;
/// λᵢ < C/h: θᵢ unchanged; λᵢ > C/l: θᵢ/s; otherwise, with γ = (C/λᵢ − l)/(h − l),
/// θᵢ ← (1 − γ)·θᵢ/s + γ·θᵢ. All in Float32 in the same order as transformers.
///
/// At position p, for each head vector x = [x₁ | x₂] (halves of d/2):
/// `x₁' = x₁·cos(pθ) − x₂·sin(pθ)`, `x₂' = x₂·cos(pθ) + x₁·sin(pθ)`.
package struct RotaryEmbedding: Sendable {
    /// Head dimension d.
    package let headDim: Int
    /// θᵢ, i < d/2.
    package let inverseFrequencies: [Float]

    /// The frequencies of `config`; refuses scaling types other than `llama3`.
    package init(config: ModelConfig, path: String = "config.json") throws(ModelError) {
        let d = config.headDim
        headDim = d
        let base = Float(config.ropeTheta)
        var inv = (0..<(d / 2)).map { i in 1 / powf(base, Float(2 * i) / Float(d)) }
        switch config.ropeScaling {
        case .none:
            break
        case .unsupported(let type):
            throw .unsupportedRopeScaling(path: path, type: type)
        case .llama3(let factor, let low, let high, let original):
            let s = Float(factor), l = Float(low), hf = Float(high), c = Float(original)
            let lowWavelength = c / l, highWavelength = c / hf
            inv = inv.map { f in
                let wavelength = 2 * Float.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / s }
                let smooth = (c / wavelength - l) / (hf - l)
                return (1 - smooth) * f / s + smooth * f
            }
        }
        inverseFrequencies = inv
    }

    /// cos(pθᵢ) and sin(pθᵢ) for the rows at positions firstPosition..<firstPosition+rows, each
    /// [rows, d/2] row-major: computed once per forward pass and shared by q, k and every layer.
    package struct Table: Sendable {
        package let rows: Int
        package let cosines: [Float]
        package let sines: [Float]
    }

    /// The table of `rows` positions from `firstPosition` (angle pθᵢ in Float, as transformers).
    package func table(rows: Int, firstPosition: Int) -> Table {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: rows * half), s = c
        for t in 0..<rows {
            let p = Float(firstPosition + t)
            for i in 0..<half {
                let angle = p * inverseFrequencies[i]
                c[t * half + i] = cosf(angle)
                s[t * half + i] = sinf(angle)
            }
        }
        return Table(rows: rows, cosines: c, sines: s)
    }

    /// Rotates `x` [rows, heads·d] in place; row t is at position `firstPosition + t`.
    package func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, firstPosition: Int) {
        apply(x, heads: heads, table: table(rows: rows, firstPosition: firstPosition))
    }

    /// Rotates `x` [table.rows, heads·d] in place by the table's angles.
    package func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, table: Table) {
        apply([(x, heads)], table: table)
    }

    /// Rotates each buffer [table.rows, heads·d] of `xs` (e.g. the queries and the keys of one step)
    /// in place by the table's angles, in one parallel pass over the rows.
    package func apply(_ xs: [(UnsafeMutablePointer<Float>, heads: Int)], table: Table) {
        let d = headDim, half = d / 2
        let width = xs.reduce(0) { $0 + $1.heads * d }
        table.cosines.withUnsafeBufferPointer { cosines in
            table.sines.withUnsafeBufferPointer { sines in
                Parallel.forChunks(count: table.rows, minChunk: max(1, 16384 / max(1, width))) { range in
                    for t in range {
                        let cr = cosines.baseAddress! + t * half, sr = sines.baseAddress! + t * half
                        for (x, heads) in xs {
                            for hd in 0..<heads {
                                let v = x + (t * heads + hd) * d
                                for i in 0..<half {
                                    let x1 = v[i], x2 = v[i + half]
                                    v[i] = x1 * cr[i] - x2 * sr[i]
                                    v[i + half] = x2 * cr[i] + x1 * sr[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
