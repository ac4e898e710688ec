#if canImport(Glibc)
import Glibc
#endif

/// LLaMA-3.1's RoPE scaling as llama.cpp stores it: one factor per rotary frequency in the
/// `rope_freqs` tensor (convert_hf_to_gguf.py, `LlamaModel.generate_extra_tensors`), computed in
/// Float32 as that script does with torch.
package enum Llama3RopeFactors {
    package struct Parameters: Equatable {
        package var factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int
        package init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int) {
            self.factor = factor; self.lowFreqFactor = lowFreqFactor; self.highFreqFactor = highFreqFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }
    }

    package static func factors(theta: Double, headDim: Int, _ p: Parameters) -> [Float] {
        let old = Float(p.originalMaxPositionEmbeddings)
        let lowWavelen = Float(Double(p.originalMaxPositionEmbeddings) / p.lowFreqFactor)
        let highWavelen = Float(Double(p.originalMaxPositionEmbeddings) / p.highFreqFactor)
        let low = Float(p.lowFreqFactor), high = Float(p.highFreqFactor), factor = Float(p.factor)
        var out: [Float] = []
        for k in stride(from: 0, to: headDim, by: 2) {
            let freq = 1 / powf(Float(theta), Float(k) / Float(headDim))
            let wavelen = Float(2 * Double.pi) / freq
            if wavelen < highWavelen {
                out.append(1)
            } else if wavelen > lowWavelen {
                out.append(factor)
            } else {
                let smooth = (old / wavelen - low) / (high - low)
                out.append(1 / ((1 - smooth) / factor + smooth))
            }
        }
        return out
    }

    /// Parameters that reproduce `factors` (to 1e-5), searched among the values LLaMA-3.x uses and
    /// power-of-two original lengths; nil when none does.
    package static func infer(_ factors: [Float], theta: Double, headDim: Int) -> Parameters? {
        guard let maxFactor = factors.max(), factors.count == headDim / 2 else { return nil }
        var originals = [8192]
        for e in 4...24 where 1 << e != 8192 { originals.append(1 << e) }
        for (low, high) in [(1.0, 4.0), (1.0, 2.0), (1.0, 8.0), (2.0, 4.0), (0.5, 4.0)] {
            for orig in originals {
                let p = Parameters(factor: Double(maxFactor), lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: orig)
                let f = Self.factors(theta: theta, headDim: headDim, p)
                if zip(f, factors).allSatisfy({ abs($0 - $1) <= 1e-5 * max(1, abs($1)) }) { return p }
            }
        }
        return nil
    }
}
