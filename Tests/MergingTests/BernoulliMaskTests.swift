import TensorMath
import Testing
@testable import Merging

/// The vectorised keep mask of DARE (`BernoulliMask`, C) draws the same numbers as `Kernels.uniform`,
/// the draw of the whole-tensor path, at every SIMD level this CPU has.
@Suite struct BernoulliMaskTests {
    @Test(arguments: [0, 2])
    func maskEqualsTheSwiftDraw(_ level: Int) {
        guard TensorMath.Kernels.limitSIMD(level) == level else { return }
        defer { TensorMath.Kernels.limitSIMD(2) }
        for (seed, first, p) in [(UInt64(7), 0, Float(0.5)), (0xDEAD_BEEF_0123, 1 << 33, 0.1), (UInt64.max, 123_457, 0.999)] {
            let n = 1000 + 13
            var mask = [UInt8](repeating: 9, count: n)
            mask.withUnsafeMutableBufferPointer { BernoulliMask.fill($0.baseAddress!, count: n, seed: seed, first: first, p: p) }
            let want = (0..<n).map { Merging.Kernels.uniform(seed, first + $0) < p ? UInt8(1) : 0 }
            #expect(mask == want, "level \(level) seed \(seed) first \(first) p \(p)")
        }
    }
}
