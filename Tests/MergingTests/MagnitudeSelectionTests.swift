import TensorMath
import Testing
@testable import Merging

/// `MagnitudeSelection` (threshold + bitmap of the kept ties, applied chunk by chunk) against the
/// whole-tensor `Sparsify.magnitude` followed by the weighting: the same bits, on arrays full of equal
/// magnitudes, with NaN (kept and dropped, and kept alone), at densities from nothing to everything,
/// with the C kernels at each SIMD level.
@Suite struct MagnitudeSelectionTests {
    static func values(_ n: Int, trial: Int) -> [Float] {
        var state = UInt64(n * 31 + trial)
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let r = state >> 33
            if trial % 3 == 0 && r % 23 == 0 { return .nan }
            let distinct = [2, 5, 40, 1 << 20][trial % 4]
            return (Float(r % UInt64(distinct)) - Float(distinct / 2)) * 0.25
        }
    }

    @Test(arguments: [0.0, 1e-9, 0.02, 0.5, 0.97, 1.0], [0, 2])
    func equalsWholeTensorSparsification(_ density: Double, _ level: Int) {
        // The C kernels (pairs, partition, threshold) at this SIMD level; a CPU without it skips.
        guard TensorMath.Kernels.limitSIMD(level) == level else { return }
        defer { TensorMath.Kernels.limitSIMD(2) }
        for trial in 0..<8 {
            let n = [1, 17, 1000, 70_001][trial % 4]
            let x = Self.values(n, trial: trial)
            let w: Float = trial % 2 == 0 ? 0.6 : -0.7
            var want = x
            want.withUnsafeMutableBufferPointer { Sparsify.magnitude($0, density: density, rescale: false) }
            want = want.map { $0 * w }
            let selection = MagnitudeSelection(count: n, density: density) { r, out in
                x.withUnsafeBufferPointer { TorchPartition.magnitudePairs($0.baseAddress! + r.lowerBound, count: r.count, first: r.lowerBound, into: out) }
            }
            // Applied in uneven pieces, so that groups of 16 straddle the pieces' ends.
            var got = [Float](repeating: 1, count: n)
            var lo = 0
            while lo < n {
                let hi = min(n, lo + 997)
                x.withUnsafeBufferPointer { xs in
                    got.withUnsafeMutableBufferPointer { g in
                        selection.weigh(xs.baseAddress! + lo, count: hi - lo, first: lo, weight: w, into: g.baseAddress! + lo)
                    }
                }
                lo = hi
            }
            let wrong = (0..<n).filter { got[$0].bitPattern != want[$0].bitPattern }
            #expect(wrong.count == 0, "density \(density) level \(level) trial \(trial) n \(n): \(wrong.count) differ, first \(wrong.first.map { "\($0): \(got[$0]) vs \(want[$0])" } ?? "")")
        }
    }

    /// Only NaNs kept: the threshold is NaN and the kept NaNs come from the bitmap.
    @Test func onlyNaNsKept() {
        let x: [Float] = (0..<100).map { $0 % 4 == 0 ? .nan : Float($0) }
        var want = x
        want.withUnsafeMutableBufferPointer { Sparsify.magnitude($0, density: 0.1, rescale: false) }
        let selection = MagnitudeSelection(count: 100, density: 0.1) { r, out in
            x.withUnsafeBufferPointer { TorchPartition.magnitudePairs($0.baseAddress! + r.lowerBound, count: r.count, first: r.lowerBound, into: out) }
        }
        var got = [Float](repeating: 1, count: 100)
        x.withUnsafeBufferPointer { xs in got.withUnsafeMutableBufferPointer { selection.weigh(xs.baseAddress!, count: 100, first: 0, weight: 1, into: $0.baseAddress!) } }
        #expect(got.filter(\.isNaN).count == 10)
        #expect(got.map(\.bitPattern) == want.map(\.bitPattern))
    }
}
