import TensorMath
import Testing

/// The one NaN/Inf scan: counts, all-zero detection and the largest finite magnitude, across chunks.
struct FloatScanTests {
    @Test func countsNonFiniteAndZerosAcrossParallelChunks() {
        var x = [Float](repeating: 0, count: 300_000)  // several chunks of 2^16
        x[7] = .nan; x[70_000] = .infinity; x[299_999] = -.infinity
        x[123_456] = -3.5; x[200_000] = 2
        let s = x.withUnsafeBufferPointer { FloatScan.scan($0) }
        #expect(s.nonFinite == 3)
        #expect(s.nonZero == 5)  // NaN and ±Inf are not zero
        #expect(s.maxAbs == 3.5)
        #expect(FloatScan.nonFiniteCount(x) == 3)
        #expect(FloatScan.nonFiniteCount([Float]()) == 0)
        #expect([Float](repeating: 0, count: 10).withUnsafeBufferPointer { FloatScan.scan($0) } == FloatScan())
    }

    @Test func float64BeyondFloat32RangeIsFiniteNotNaN() {
        let x: [Double] = [1e300, -.nan, 0, -2]
        let s = x.withUnsafeBufferPointer { FloatScan.scan($0) }
        #expect(s.nonFinite == 1 && s.nonZero == 3 && s.maxAbs == .infinity)
    }
}
