import CKernels

/// The keep mask of random (DARE) sparsification (`lep_bernoulli_mask`, vectorised C).
package enum BernoulliMask {
    /// keep[j] = 1 when the draw for element first + j, Float(mix(seed &+ (first + j) &* 0x9E3779B97F4A7C15) >> 40)·2⁻²⁴
    /// with SplitMix64's finaliser, is below `p`; else 0.
    package static func fill(_ keep: UnsafeMutablePointer<UInt8>, count: Int, seed: UInt64, first: Int, p: Float) {
        lep_bernoulli_mask(keep, count, seed, first, p)
    }
}
