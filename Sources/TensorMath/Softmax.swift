#if canImport(Glibc)
import Glibc
#endif

/// Numerically stable softmax and log-sum-exp over rows.
package enum Softmax {
    /// Softmax of `x[0..<count]` in place (max subtracted first); entries equal to `-.infinity` become 0.
    @inline(__always)
    package static func inPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(x[i] - m)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<count { x[i] *= inv }
    }

    /// `log Σᵢ exp(x[i])` in Double, for log-probabilities (`x[j] − logSumExp`).
    package static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        var sum = 0.0
        for i in 0..<count { sum += exp(Double(x[i]) - Double(m)) }
        return Double(m) + log(sum)
    }
}
