#if canImport(Glibc)
import Glibc
#endif

/// One parallel pass over float values for what makes a tensor unusable: NaN/±Inf values, all zeros,
/// and the largest magnitude. The one NaN scan (merging, LoRA folding and `verify`'s weight check use it).
package struct FloatScan: Equatable, Sendable {
    /// NaN or ±Inf values.
    package var nonFinite = 0
    /// Values other than ±0.
    package var nonZero = 0
    /// The largest |x| over the finite values (0 when there are none; a float64 beyond float32's
    /// range counts as +Inf here, never as non-finite).
    package var maxAbs: Float = 0

    /// A scan that has seen nothing.
    package init() {}

    /// Scans `x` (float32 or float64 values), in parallel chunks.
    package static func scan<T: BinaryFloatingPoint>(_ x: UnsafeBufferPointer<T>) -> FloatScan {
        let total = Accumulator()
        Parallel.forChunks(count: x.count, minChunk: 1 << 16) { r in
            var s = FloatScan()
            for i in r {
                let v = x[i]
                if !v.isFinite { s.nonFinite += 1 } else { s.maxAbs = max(s.maxAbs, Float(abs(v))) }
                if v != 0 { s.nonZero += 1 }
            }
            total.merge(s)
        }
        return total.value
    }

    /// The number of NaN/±Inf values of `x`.
    package static func nonFiniteCount(_ x: UnsafeBufferPointer<Float>) -> Int { scan(x).nonFinite }

    /// The number of NaN/±Inf values of `x`.
    package static func nonFiniteCount(_ x: [Float]) -> Int { x.withUnsafeBufferPointer { nonFiniteCount($0) } }

    /// Adds another scan's counts (of disjoint values).
    package mutating func merge(_ o: FloatScan) {
        nonFinite += o.nonFinite
        nonZero += o.nonZero
        maxAbs = max(maxAbs, o.maxAbs)
    }

    /// A mutex-protected merge of the chunks' scans.
    private final class Accumulator: @unchecked Sendable {
        private var lock = pthread_mutex_t()
        private var total = FloatScan()
        init() { pthread_mutex_init(&lock, nil) }
        deinit { pthread_mutex_destroy(&lock) }
        func merge(_ s: FloatScan) { pthread_mutex_lock(&lock); total.merge(s); pthread_mutex_unlock(&lock) }
        var value: FloatScan { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return total }
    }
}
